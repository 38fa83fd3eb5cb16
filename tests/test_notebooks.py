"""Run every lesson notebook through nbdev's own executor: one pytest test per notebook, honouring `tst_flags`.

While a notebook runs, every exercise is checked both ways in the same execution: when the runner reaches a group of
`#| solution` cells it first runs the exercise's check cell (the first code cell after the group, `# check ...`) and
requires it to raise, as it would against the student's stub; then it runs the solution cells and the check as usual,
which must pass. A second, static test per notebook checks the committed outputs (no progress-bar residue, no errors,
a cell that prints shows what it printed).
"""
import ast, os, re, sys, time
from pathlib import Path
import nbformat
import pytest
from fastcore.basics import str2bool
from fastcore.xtras import working_directory
from execnb.shell import CaptureShell
from nbdev.config import get_config
from nbdev.frontmatter import nb_frontmatter
from nbdev.process import NBProcessor, nb_lang
from nbdev.test import _skip_cell       # the predicate nbdev's `test_nb` uses to leave cells out (tst_flags, eval: false)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT/'nbs').glob('*/[0-9][0-9]_*.ipynb'), key=lambda p: p.name)


def _flags():
    cfg = get_config(ROOT)
    skip = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    force = os.environ.get('NBDEV_TEST_FLAGS', '').split()        # e.g. NBDEV_TEST_FLAGS=slow runs `#| slow` cells
    return [f for f in skip if f not in force], force, cfg


sys.path.insert(0, str(ROOT/'scripts'))
from build_site import SOLUTION_MARK as SOLUTION, is_solution, exercise_groups   # noqa: E402  (one definition of an exercise, shared with the site)
from course_stats import directives                                               # noqa: E402


def run_notebook(fn, skip_flags=None, force_flags=None, basepath=None, cell_timeout=600):
    """nbdev's `test_nb` (same processing, skip flags, in-process `CaptureShell`, working directory, `IN_TEST`), plus:
    before the first cell of each group of `#| solution` cells its check cell runs once and must raise.
    Returns `(ok, seconds, exercises checked, error text)`."""
    fn = Path(fn)
    if basepath and str(basepath) not in sys.path: sys.path.insert(0, str(basepath))
    prev_test = os.environ.get('IN_TEST')
    os.environ['IN_TEST'] = '1'
    start, checked = time.time(), [0]
    try:
        nb = NBProcessor(fn, rm_directives=False, process=True).nb
        fm = nb_frontmatter(nb)
        if str2bool(fm.get('skip_exec', False)) or nb_lang(nb) != 'python': return True, 0., 0, ''
        skip = _skip_cell(nb, skip_flags, force_flags)
        cells, problems, precheck = nb.cells, [], {}
        for sols, chk in exercise_groups(cells):
            if chk is None:
                problems.append(f'the `#| solution` cell {sols[0]} has no check cell after it'); continue
            if not cells[chk].source.lstrip().lower().startswith('# check'):
                problems.append(f'cell {chk}, after the `#| solution` cell(s) {sols}, should be the check, starting `# check`')
            if any(skip(cells[i]) for i in sols) or skip(cells[chk]): continue
            precheck[id(cells[sols[0]])] = chk
        if problems: return False, time.time() - start, 0, f'{fn.name}: ' + '; '.join(problems)
        try: profile = bool(get_config(fn.parent).exec_profile)
        except Exception: profile = False
        k = CaptureShell(fn, profile=profile)

        def preproc(cell):
            if skip(cell): return True
            chk = precheck.get(id(cell))
            if chk is not None:
                k.run(cells[chk].source, timeout=cell_timeout)            # against the stub: nothing defined yet
                if k.exc is None:
                    k.exc = AssertionError(
                        f'the check in cell {chk} passed before its solution ran (cell {cells.index(cell)}): it must test '
                        f'what the solution computes, so that it fails against the student stub')
                    return True                                           # run_all stops and raises it
                k.exc = None
                checked[0] += 1
            return False

        try:
            with working_directory(fn.parent):
                k.run_all(nb, exc_stop=True, preproc=preproc, cell_timeout=cell_timeout)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt): raise
            k.exc = k.exc or e
            return False, time.time() - start, checked[0], k.prettytb(fname=fn) or repr(e)
        leaks = f'{fn}: {len(k.leaks)} leaked task(s) survived cancellation' if k.leaks else ''
        return True, time.time() - start, checked[0], leaks
    finally:
        if prev_test is None: os.environ.pop('IN_TEST', None)
        else: os.environ['IN_TEST'] = prev_test


def test_notebooks_found():
    assert len(NOTEBOOKS) >= 1, 'no notebooks found in nbs/'


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb):
    skip, force, cfg = _flags()
    ok, secs, n_ex, err = run_notebook(nb, skip_flags=skip, force_flags=force, basepath=str(ROOT), cell_timeout=cfg.cell_timeout)
    print(f'{nb.name}: {secs:.1f}s, {n_ex} exercise check(s) failed without and passed with their solution')
    if err: sys.__stderr__.write(err + '\n')
    assert ok, f'{nb.name} failed:\n{err}'


def _exercise_nb(path, solution, check, before=''):
    cells = [nbformat.v4.new_code_cell(before or 'x = 1'), nbformat.v4.new_markdown_cell('### Exercise 1: double x'),
             nbformat.v4.new_code_cell(f'{SOLUTION}\n{solution}'), nbformat.v4.new_code_cell(f'# check\n{check}')]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


@pytest.mark.parametrize('solution,check,before,ok', [
    ('ex1_y = 2 * x', 'assert ex1_y == 2', '', True),                 # fails without the solution, passes with it
    ('ex1_y = 3 * x', 'assert ex1_y == 2', '', False),                # a wrong solution fails its check
    ('y = 2 * x', 'assert y == 2', 'x = 1; y = 2', False),           # a check that passes before its solution
], ids=['good', 'wrong-solution', 'check-passes-without-solution'])
def test_exercise_runner(tmp_path, solution, check, before, ok):
    nb = _exercise_nb(tmp_path/'ex.ipynb', solution, check, before)
    res, _, n, err = run_notebook(nb, cell_timeout=60)
    assert res == ok, err
    if ok: assert n == 1
    if before: assert 'passed before its solution' in err


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_structure(nb):
    "Each lesson ends with a Summary, a Questionnaire of at least 8 questions, at least 3 exercises (each solved and checked) and Further research"
    cells = nbformat.read(nb, as_version=4).cells
    md = '\n'.join(c.source for c in cells if c.cell_type == 'markdown') + '\n## end'
    problems = []
    if not re.search(r'^##\s+Summary\b', md, re.M): problems.append('no `## Summary` section')
    if not re.search(r'^##\s+Further research\b', md, re.M): problems.append('no `## Further research` section')
    q = re.search(r'^##\s+Questionnaire\b.*?$(.*?)(?=^##\s)', md, re.M | re.S)
    n_q = len(re.findall(r'^\s*\d+\.\s', q.group(1), re.M)) if q else 0
    if n_q < 8: problems.append(f'a `## Questionnaire` of at least 8 numbered questions (found {n_q})')
    prompts = [i for i, c in enumerate(cells) if c.cell_type == 'markdown' and re.match(r'\s*###+\s+Exercise\b', c.source)]
    groups = exercise_groups(cells)
    if len(prompts) < 3: problems.append(f'at least 3 `### Exercise N: ...` prompts (found {len(prompts)})')
    for k, i in enumerate(prompts):
        end = prompts[k+1] if k+1 < len(prompts) else len(cells)
        if not any(i < sols[0] < end and chk is not None for sols, chk in groups):
            problems.append(f'exercise at cell {i} has no `#| solution` cell followed by a check cell')
    print(f'{nb.stem}: {len(prompts)} exercises, {n_q} questions')
    assert not problems, f'{nb.name}: ' + '; '.join(problems)


# ---------------------------------------------------------------------------------------------------------------
# committed outputs

_BAR = re.compile(r'█|\|-{5,}\|')


def _prints_at_top_level(src):
    "Whether the cell calls `print` outside any function, lambda or class body (so running it prints something)"
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        tree = ast.parse(TransformerManager().transform_cell(src))
    except SyntaxError: return 'print(' in src
    def walk(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)): return False
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'print': return True
        return any(walk(c) for c in ast.iter_child_nodes(node))
    return walk(tree)


def output_problems(path):
    "What is wrong with the outputs committed in the notebook at `path` (empty: nothing)"
    nb = nbformat.read(path, as_version=4)
    problems = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'code': continue
        where = f'cell {i} ({c.source.strip().splitlines()[0][:60] if c.source.strip() else "empty"!r})'
        for o in c.get('outputs', []):
            if o.output_type == 'error':
                problems.append(f'{where}: an error output ({o.get("ename")}: {str(o.get("evalue"))[:80]})')
                continue
            texts = [o.get('text', '')] if o.output_type == 'stream' else \
                [''.join(v) if isinstance(v, list) else v for k, v in o.get('data', {}).items()
                 if k in ('text/plain', 'text/html') and isinstance(v, (str, list))]
            for t in texts:
                if _BAR.search(t): problems.append(f'{where}: progress-bar residue in an output ({_BAR.search(t).group(0)!r})'); break
                if o.output_type == 'stream' and 'Traceback (most recent call last)' in t:
                    problems.append(f'{where}: a traceback in its output'); break
        dirs = directives(c.source)
        if dirs & {'slow', 'hide'}: continue     # slow: outputs committed only if quoted; hide: not shown
        if not c.get('outputs') and _prints_at_top_level(c.source):
            problems.append(f'{where}: prints but has no committed output (execute the notebook top to bottom)')
    return problems


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_outputs(nb):
    problems = output_problems(nb)
    assert not problems, f'{nb.name}:\n  ' + '\n  '.join(problems)
