"""The student edition and what is published. Student notebooks: valid, no solution text, each exercise a stub and a
check that answers in one line (what to define first, what is not right yet, or that the answer is correct), and they
run where they are built (`scripts/run_site_notebooks.py`, on a tiny lesson here; CI runs every notebook). `make lab`'s
fast path writes them without touching a student's work. The public site serves no answers; the instructor build does."""
import json, linecache, re, sys
from pathlib import Path
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'scripts'))
sys.path.insert(0, str(ROOT/'tests'))
import build_site, run_site_notebooks                                  # noqa: E402
from test_site import site, _nb, STEMS                                 # noqa: E402,F401  (the built site, shared)
from test_site_build_errors import fake_vendor                         # noqa: E402,F401  (stand-in MathJax, reveal.js)


def _solution_lines(nb):
    "Lines of the instructor's solutions that appear nowhere else in the notebook: a student notebook must not hold them"
    sols = [c for c in nb.cells if build_site.is_solution(c)]
    others = '\n'.join(c.source for c in nb.cells if not build_site.is_solution(c))
    lines = {l.strip() for c in sols for l in c.source.splitlines()[1:]}
    return sols, {l for l in lines if len(l) >= 6 and l not in others and not l.startswith('#|')}


@pytest.mark.parametrize('stem', STEMS)
def test_student_notebook(site, stem):
    out, _ = site
    inst = nbformat.read(_nb(site, stem), as_version=4)
    stud = nbformat.read(out/'student'/f'{stem}.ipynb', as_version=4)
    nbformat.validate(stud)
    sols, secret = _solution_lines(inst)
    text = '\n'.join(c.source for c in stud.cells) + json.dumps([c.get('outputs', []) for c in stud.cells if c.cell_type == 'code'])
    leaks = [l for l in secret if l in text]
    assert not leaks, f'solution text in the student notebook: {leaks[:5]}'
    groups = build_site.exercise_groups(inst.cells)
    helper = [i for i, c in enumerate(stud.cells) if c.get('id') == 'exercise-checks']
    assert len(helper) == (1 if groups else 0) and len(stud.cells) == len(inst.cells) + len(helper)
    if helper:
        assert stud.cells[helper[0]].source == build_site.CHECK_HELPER and helper[0] <= groups[0][0][0]
        del stud.cells[helper[0]]                                     # then the cells line up with the lesson's
    for k, (sol_idx, chk) in enumerate(groups):
        for i in sol_idx:
            assert stud.cells[i].source == build_site.STUB and not stud.cells[i].outputs
        if chk is not None:
            got = stud.cells[chk].source
            assert not stud.cells[chk].outputs and re.search(r'^with exercise\(\d+, ', got, re.M), got
            for line in inst.cells[chk].source.splitlines():          # the check's own lines, indented under the `with`
                assert line.strip() in got, f'{stem}: check {chk} lost {line!r}'
    assert not any(build_site.is_solution(c) for c in stud.cells)
    checks = {chk for _, chk in groups}
    for i, (a, b) in enumerate(zip(inst.cells, stud.cells)):          # every other cell as it was
        if i not in checks and not build_site.is_solution(a): assert a.source == b.source


# ---------------------------------------------------------------------------------------------------------------
# the checks' one-line answers

def _tiny_lesson(check='assert ex1_y == 2 * x, "ex1_y should be twice x"', extra=()):
    "A lesson with one exercise: `x`, the prompt, a solution defining `ex1_y`, its check"
    cells = [nbformat.v4.new_markdown_cell('# A tiny lesson\n> One exercise'), nbformat.v4.new_code_cell('x = 1'), *extra,
             nbformat.v4.new_markdown_cell('## Exercises'), nbformat.v4.new_markdown_cell('### Exercise 1: double `x`\nDefine ex1_y.'),
             nbformat.v4.new_code_cell(f'{build_site.SOLUTION_MARK}\nex1_y = 2 * x'),
             nbformat.v4.new_code_cell(f'# check\n{check}')]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    return nb


def _run(ns, src, name):
    "Run `src` in the namespace `ns` as a notebook cell named `name` (its lines known to linecache, as IPython does)"
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    exec(compile(src, name, 'exec'), ns)


@pytest.mark.parametrize('answer,says', [
    (None, 'Exercise 1 (double x): define ex1_y first — run your solution cell above.'),
    ('ex1_y = 3', 'Exercise 1: not yet — ex1_y should be twice x'),
    ('ex1_y = "2"', "Exercise 1: not yet — TypeError: can only concatenate str"),
    ('ex1_y = 2', 'Exercise 1: correct ✓'),
], ids=['stub', 'wrong', 'error', 'right'])
def test_check_says_one_line(capsys, answer, says):
    stud = build_site.student_notebook(_tiny_lesson(check='assert ex1_y + x > 0\nassert ex1_y == 2 * x, "ex1_y should be twice x"'))
    src = [c.source for c in stud.cells if c.cell_type == 'code']
    assert src[1] == build_site.CHECK_HELPER and src[2] == build_site.STUB
    assert src[3] == ('# check\nwith exercise(1, \'double x\', \'ex1_y\'):\n'
                      '    assert ex1_y + x > 0\n    assert ex1_y == 2 * x, "ex1_y should be twice x"')
    ns = {}
    for i, s in enumerate(src[:2]): _run(ns, s, f'cell-{i}')
    if answer is None:
        with pytest.raises(NotImplementedError): _run(ns, src[2], 'cell-2')
    else: _run(ns, answer, 'cell-2')
    if says.endswith('✓'):
        _run(ns, src[3], 'cell-3')
        assert capsys.readouterr().out == says + '\n'
        return
    with pytest.raises(Exception) as e: _run(ns, src[3], 'cell-3')
    assert type(e.value).__name__ == 'NotYet' and str(e.value).startswith(says), str(e.value)
    assert e.value._render_traceback_() == [f'NotYet: {e.value}'] and '\n' not in str(e.value)   # Jupyter: one line


def test_check_without_message_names_the_line():
    stud = build_site.student_notebook(_tiny_lesson(check='y = ex1_y\nassert y == 2'))
    src = [c.source for c in stud.cells if c.cell_type == 'code']
    ns = {}
    for i, s in enumerate([src[0], src[1], 'ex1_y = 5']): _run(ns, s, f'cell-{i}')
    with pytest.raises(Exception) as e: _run(ns, src[3], 'cell-3')
    assert str(e.value) == 'Exercise 1: not yet — `assert y == 2` is false'


def test_wrap_check_keeps_strings():
    "Inner lines of a multi-line string are not indented (their text would change); the code around them is"
    src = '# check\n# two comments\ns = """a\nb"""\nassert s == "a\\nb"'
    out = build_site.wrap_check(src, 2, 'strings', ['s'])
    assert out == '# check\n# two comments\nwith exercise(2, \'strings\', \'s\'):\n    s = """a\nb"""\n    assert s == "a\\nb"'
    ns = {}
    _run(ns, build_site.CHECK_HELPER, 'helper')
    _run(ns, out, 'check')                                            # compiles and passes


# ---------------------------------------------------------------------------------------------------------------
# the built notebooks run where they are built

def test_run_site_notebooks(tmp_path, capsys):
    """The student edition of a tiny lesson runs in a kernel: its stub and check fail as they should (the check in one
    line), a `#| slow` cell is skipped; a cell that fails elsewhere is reported; the RISE copy runs with no error"""
    slow = nbformat.v4.new_code_cell('#| slow\nraise RuntimeError("a slow cell ran")')
    lesson = _tiny_lesson(extra=[slow])
    (tmp_path/'student').mkdir(); (tmp_path/'present').mkdir()
    nbformat.write(build_site.student_notebook(lesson), tmp_path/'student'/'00_tiny.ipynb')
    nbformat.write(build_site.present_notebook(lesson), tmp_path/'present'/'00_tiny.ipynb')
    broken = build_site.student_notebook(_tiny_lesson(extra=[nbformat.v4.new_code_cell('1 / 0')]))
    nbformat.write(broken, tmp_path/'student'/'01_broken.ipynb')
    assert run_site_notebooks.main([str(tmp_path/'student'), str(tmp_path/'present')]) == 1
    out = capsys.readouterr().out
    assert re.search(r'^ok   \S+student/00_tiny\.ipynb', out, re.M) and re.search(r'^ok   \S+present/00_tiny\.ipynb', out, re.M), out
    assert re.search(r'^FAIL \S+student/01_broken\.ipynb .*\n\s+cell 2 failed: ZeroDivisionError', out, re.M), out
    assert '2 of 3 notebooks ran as they should' in out


def test_student_only_build(tmp_path):
    "`build_site.py --student-only` (what `make lab` runs): the student notebooks and their data; a student's work is kept"
    nbs, out = tmp_path/'nbs', tmp_path/'student'
    (nbs/'core').mkdir(parents=True); (nbs/'beyond'/'data').mkdir(parents=True)
    nbformat.write(_tiny_lesson(), nbs/'core'/'00_tiny.ipynb')
    nbformat.write(_tiny_lesson(), nbs/'beyond'/'11_more.ipynb')
    (nbs/'beyond'/'data'/'table.json').write_text('{}')
    said = []
    assert build_site.write_student_edition(out, nbs, said.append) == dict(written=['00_tiny', '11_more'], kept=[])
    assert sorted(p.name for p in out.iterdir()) == ['.written.json', '00_tiny.ipynb', '11_more.ipynb', 'data']
    assert (out/'data'/'table.json').read_text() == '{}'
    assert build_site.STUB in [c.source for c in nbformat.read(out/'00_tiny.ipynb', as_version=4).cells]
    (out/'00_tiny.ipynb').write_text('my work')
    (out/'11_more.ipynb').unlink()
    assert build_site.write_student_edition(out, nbs, said.append) == dict(written=['11_more'], kept=['00_tiny'])
    assert (out/'00_tiny.ipynb').read_text() == 'my work' and 'kept' in said[-1]
    changed = _tiny_lesson(); changed.cells[0].source += ' (revised)'          # the lesson changes
    nbformat.write(changed, nbs/'core'/'00_tiny.ipynb'); nbformat.write(changed, nbs/'beyond'/'11_more.ipynb')
    assert build_site.write_student_edition(out, nbs, said.append) == dict(written=['11_more'], kept=['00_tiny'])
    assert '(revised)' in (out/'11_more.ipynb').read_text()                 # untouched copy: brought up to date
    assert (out/'00_tiny.ipynb').read_text() == 'my work'                  # the student's: kept


# ---------------------------------------------------------------------------------------------------------------
# answers only where an instructor needs them

def test_public_site_serves_no_answers(site):
    "The public build: no `present/`, and no lesson page, deck or notebook holds a line of a solution"
    out, info = site
    assert not info.get('instructor') and not (out/'present').exists()
    for p in build_site.notebooks(out.parent/'nbs'):
        _, secret = _solution_lines(nbformat.read(p, as_version=4))
        for f in (out/f'{p.stem}.html', out/'slides'/f'{p.stem}.slides.html'):
            text = build_site._text(f.read_text())
            leaks = [l for l in secret if ' '.join(l.split()) in text]
            assert not leaks, f'{f.relative_to(out)} shows solution lines: {leaks[:3]}'
    for f in out.rglob('*.html'):
        assert 'href="present/' not in f.read_text() and "href='present/" not in f.read_text(), f'{f} links to present/'


def test_instructor_build(tmp_path, fake_vendor):
    "`--instructor`: the lesson page keeps the solution (folded) and `present/` holds the lesson with its answers"
    nbs = tmp_path/'nbs'
    nbs.mkdir()
    nbformat.write(_tiny_lesson(), nbs/'00_tiny.ipynb')
    build_site.build(tmp_path/'public', tmp_path/'cache', quiet=True, nbs=nbs)
    info = build_site.build(tmp_path/'inst', tmp_path/'cache', quiet=True, nbs=nbs, instructor=True)
    assert info['instructor'] and not (tmp_path/'public'/'present').exists()
    present = nbformat.read(tmp_path/'inst'/'present'/'00_tiny.ipynb', as_version=4)
    assert any('ex1_y = 2 * x' in c.source for c in present.cells)
    inst, public = (tmp_path/'inst'/'00_tiny.html').read_text(), (tmp_path/'public'/'00_tiny.html').read_text()
    assert 'celltag_solution' in inst and 'ex1_y = 2 * x' in build_site._text(inst)
    assert 'celltag_solution' not in public and 'ex1_y = 2 * x' not in build_site._text(public)
    assert 'href="present/00_tiny.ipynb"' in inst and 'present/' not in public


def test_pages_workflow_publishes_the_public_build():
    "GitHub Pages gets `_site/` from a plain build: never the instructor build, never `present/`"
    wf = (ROOT/'.github'/'workflows'/'pages.yaml').read_text()
    builds = re.findall(r'python scripts/build_site\.py[^\n]*', wf)
    assert builds and all('--instructor' not in b for b in builds), builds
    assert re.search(r'path:\s*_site\s*$', wf, re.M) and '_site_instructor' not in wf
