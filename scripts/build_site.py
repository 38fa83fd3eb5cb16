#!/usr/bin/env python
"""Build the course website `_site/` from the committed notebooks, without re-executing them.

    python scripts/build_site.py                  # -> _site/, the public site (vendor files cached in _site_cache/)
    python scripts/build_site.py --instructor     # -> _site_instructor/: the same with the answers (never published)
    python scripts/build_site.py --student-only   # -> student/: only the student notebooks (`make lab` opens them)

What it writes:
- `index.html`: what the course is, its three tracks with reading times, how to start and to present (`site/home.md`);
- `NN_topic.html`: one page per lesson `nbs/NN_topic.ipynb`, rendered from its stored outputs, with nbdev's directives
  honoured (`#| hide` / `#| default_exp` cells left out, other `#|` lines stripped, `show_doc` inputs hidden);
- `api/index.html`, `api/MODULE.html`: an API reference per module (nbdev's `show_doc` of every name in `__all__`);
- `slides/NN_topic.slides.html`: a reveal.js deck per lesson: headings, short text, math and code on the slides, long prose
  in the speaker notes (`s`), no solution, check, hidden cell or directive; code cut to fit, long outputs trimmed;
- `student/NN_topic.ipynb`: the lesson with every `#| solution` cell replaced by a stub, checks that answer in one line,
  exercise outputs cleared (and the `data/` files lessons read);
- `present/NN_topic.ipynb` (instructor build only): the whole lesson, answers included, with the deck's slides, notes and
  slide breaks as metadata, to present live with RISE. The public site's lesson pages leave the solutions out;
- `search.html` + `assets/search_index.js`: a local full-text search over every section.

Every asset is local. MathJax 3 and reveal.js come from the npm registry (`npm install` into `_site_cache/`, pinned
below) at build time; nothing vendored is committed, nothing is loaded from a CDN, no web font is used.
"""
from __future__ import annotations
import argparse, ast, copy, functools, hashlib, html, importlib.util, json, re, shutil, subprocess, sys, time
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter, SlidesExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

ROOT = Path(__file__).resolve().parents[1]
SITE_SRC = ROOT/'site'
NPM_PACKAGES = {'mathjax': '3.2.2', 'reveal.js': '5.2.1'}   # tested versions; fetched from the npm registry
SITE_NAME = 'collab_lessons'
SOLUTION_MARK = '#| solution'
STUB = '# Exercise: write your solution here\nraise NotImplementedError("Exercise: your code here")'

# ---------------------------------------------------------------------------------------------------------------
# notebooks and nbdev directives

_DIRECTIVE = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')
_HIDE_LINE = re.compile(r'#\s*\|\s*hide_line\s*$')
_SHOWDOC = re.compile(r'^\s*show_doc\(', re.M)
_ANSI = re.compile(r'\x1B(?:[@-Z\\-_]|\[[0-?]*[ -/]*[@-~])')
_HIDE_DIRS = {'hide', 'default_exp'}


TRACKS = ('core', 'beyond', 'appendix')


def notebooks(nbs: Path = ROOT/'nbs') -> list[Path]:
    "The lesson notebooks in course order, track by track: `nbs/core/NN_topic.ipynb`, ... (or `nbs/NN_topic.ipynb`)"
    return [p for t in TRACKS for p in sorted((nbs/t).glob('[0-9][0-9]_*.ipynb'))] or sorted(nbs.glob('[0-9][0-9]_*.ipynb'))


def split_directives(src: str) -> tuple[dict, str]:
    "nbdev directives at the top of a code cell (`#| name args`) and the source without them (and without `hide_line`s)"
    lines, dirs, i = src.splitlines(), {}, 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if m: dirs[m.group(1)] = m.group(2)
        elif lines[i].strip(): break
        i += 1
    body = [l for l in lines[i:] if not _HIDE_LINE.search(l)]
    return dirs, '\n'.join(body).strip('\n')


def is_solution(cell) -> bool:
    "A code cell whose first line is exactly `#| solution`"
    return cell.cell_type == 'code' and cell.source.split('\n', 1)[0].rstrip() == SOLUTION_MARK


_EXERCISE = re.compile(r'\s*#+\s*Exercise', re.I)


def is_check(cell) -> bool:
    "A code cell whose first line is `# check`: an exercise's check, run after its solution"
    return cell.cell_type == 'code' and cell.source.lstrip().lower().startswith('# check')


def exercise_groups(cells) -> list[tuple[list[int], int | None]]:
    "`(solution cell indices, index of the check cell or None)` for each run of consecutive `#| solution` code cells"
    groups, i = [], 0
    while i < len(cells):
        if is_solution(cells[i]):
            sols = []
            while i < len(cells) and (is_solution(cells[i]) or cells[i].cell_type != 'code'):
                if is_solution(cells[i]): sols.append(i)
                elif cells[i].cell_type == 'markdown' and _EXERCISE.match(cells[i].source): break   # the next exercise
                i += 1
            nxt = next((j for j in range(sols[-1]+1, len(cells)) if cells[j].cell_type == 'code'), None)
            check = nxt if nxt is not None and is_check(cells[nxt]) else None
            groups.append((sols, check))
        else: i += 1
    return groups


class NotebookError(ValueError):
    "A notebook the build cannot read; the message names the file, the cell (counted from 0) and what is wrong"


_CELL_TYPES = ('code', 'markdown', 'raw')
_OUTPUT_TYPES = ('stream', 'display_data', 'execute_result', 'error')


def _shown(path: Path) -> str:
    "`path` relative to the repository when it is inside it (`nbs/03_x.ipynb`), else as given"
    try: return str(Path(path).resolve().relative_to(ROOT))
    except ValueError: return str(path)


def _kind(x) -> str:
    return {dict: 'object', list: 'list', str: 'string', type(None): 'null'}.get(type(x), type(x).__name__)


def _is_text(x) -> bool:
    return isinstance(x, str) or isinstance(x, list) and all(isinstance(s, str) for s in x)


def _cell_problem(cell) -> str | None:
    "What is wrong with one cell of a notebook's JSON, in a few words, or None"
    if not isinstance(cell, dict): return f'a cell must be a JSON object, got {_kind(cell)}'
    t = cell.get('cell_type')
    if t not in _CELL_TYPES:
        return f"unknown cell_type {t!r} (expected 'code', 'markdown' or 'raw')" if 'cell_type' in cell else "no 'cell_type'"
    if 'source' not in cell: return f"{t} cell has no 'source'"
    if not _is_text(cell['source']): return f"'source' must be a string or list of strings, got {_kind(cell['source'])}"
    if not isinstance(cell.get('metadata'), dict):
        return f"'metadata' must be an object ({{}} if empty), got {_kind(cell['metadata'])}" if 'metadata' in cell else "no 'metadata'"
    if t != 'code': return None
    if 'outputs' not in cell: return "code cell has no 'outputs' (a list, empty if the cell shows nothing)"
    if not isinstance(cell['outputs'], list): return f"'outputs' must be a list, got {_kind(cell['outputs'])}"
    for j, o in enumerate(cell['outputs']):
        if not isinstance(o, dict): return f'output {j}: an output must be a JSON object, got {_kind(o)}'
        ot = o.get('output_type')
        if ot not in _OUTPUT_TYPES:
            return (f"output {j}: unknown output_type {ot!r} (expected 'stream', 'display_data', 'execute_result' or "
                    "'error')") if 'output_type' in o else f"output {j}: no 'output_type'"
        if ot == 'stream' and not _is_text(o.get('text')):
            return f"output {j}: a stream's 'text' must be a string or list of strings, got {_kind(o.get('text'))}"
    return None


def _schema_problem(e) -> tuple[int | None, str]:
    "`(cell index or None, what is wrong)` from nbformat's schema error `e`, on one short line"
    path = list(e.absolute_path)
    cell = path[1] if len(path) > 1 and path[0] == 'cells' and isinstance(path[1], int) else None
    field = ''.join(f'[{k}]' if isinstance(k, int) else f'.{k}' for k in (path[2:] if cell is not None else path))
    field = field.lstrip('.') or ('the cell' if cell is not None else 'the notebook')
    if e.validator == 'type':
        types = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
        what = f'{field} must be {" or ".join(types)}, got {_kind(e.instance)}'
    elif e.validator in ('required', 'additionalProperties'): what = f'{field}: {e.message}'
    elif e.validator in ('oneOf', 'anyOf'): what = f'{field} does not match the notebook format'
    else: what = f'{field}: {e.message.splitlines()[0]}'
    return cell, what if len(what) <= 200 else what[:197] + '...'


def read_notebook(path: Path):
    """The notebook at `path` (nbformat 4), checked against the notebook format; `NotebookError` if it cannot be read,
    naming the file and the cell (`nbs/03_x.ipynb, cell 7: 'source' must be a string or list of strings, got int`)"""
    def bad(what, cell=None):
        return NotebookError(f'{_shown(path)}' + (f', cell {cell}' if cell is not None else '') + f': {what}')
    try: text = Path(path).read_text(encoding='utf-8')
    except (OSError, UnicodeDecodeError) as e: raise bad(f'cannot read the file ({e})') from None
    if not text.strip(): raise bad('the file is empty')
    try: raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise bad(f'not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); is the file cut short?') from None
    if not isinstance(raw, dict): raise bad(f'not a notebook: the file holds a JSON {_kind(raw)}, not an object')
    if raw.get('nbformat') != 4:
        raise bad(f"not an nbformat 4 notebook ('nbformat' is {raw.get('nbformat')!r}); save it again with JupyterLab")
    if not isinstance(raw.get('cells'), list): raise bad(f"'cells' must be a list, got {_kind(raw.get('cells'))}")
    for i, cell in enumerate(raw['cells']):
        problem = _cell_problem(cell)
        if problem: raise bad(problem, i)
    try:
        nb = nbformat.convert(nbformat.reader.reads(text), 4)
        nbformat.validate(nb)
    except nbformat.ValidationError as e:
        cell, what = _schema_problem(e)
        raise bad(what, cell) from None
    except Exception as e: raise bad(f'nbformat cannot read it ({type(e).__name__}: {e})') from None
    return nb


def lesson_info(path: Path) -> dict:
    "Title, summary and module of the lesson notebook at `path` (`NotebookError` if it cannot be read)"
    nb = read_notebook(path)
    title, summary, module = path.stem, '', None
    for c in nb.cells:
        if c.cell_type == 'markdown' and c.source.lstrip().startswith('# '):
            lines = c.source.strip().splitlines()
            title = lines[0][2:].strip()
            summary = ' '.join(l.lstrip('> ').strip() for l in lines[1:] if l.startswith('>'))
            break
    for c in nb.cells:
        if c.cell_type == 'code':
            m = re.search(r'^\s*#\s*\|\s*default_exp\s+(\S+)', c.source, re.M)
            if m: module = m.group(1); break
    return dict(stem=path.stem, num=path.stem[:2], title=title, summary=summary, module=module, path=path, nb=nb)


_DEFAULT_EXP = re.compile(r'^\s*#\s*\|\s*default_exp\s+(\S+)', re.M)
# nbdev's show_doc block: `---`, `[source](url){target=...}` (missing for some names), `### name`, a ```python signature
_DOC_HEADING = re.compile(r'(?:\[source\]\(([^)\s]*)\)(?:\{[^}\n]*\})?[ \t]*\n[ \t]*\n)?(#{2,4}) ([A-Za-z_][\w.]*)[ \t]*\n(?=\s*```)')


def _md_attrs(md: str, module=None) -> str:
    """nbdev's `show_doc` markdown as the site shows it: each block's source link recomputed from the package's source as
    it is now (the line nbdev stored when the notebook ran goes stale; a name imported into a module links to where it is
    defined; `module`, the lesson's, is tried first), and Pandoc/Quarto attribute syntax (`[x](url){target=...}`) as HTML"""
    def link(m):
        stored, hashes, name = m.group(1) or '', m.group(2), m.group(3)
        hint = re.search(r'/(\w+)\.py#L\d+$', stored)
        where = _source(name, module, hint.group(1) if hint else None)
        url = _src_url(*where) if where else stored
        a = (f'<a class="source-link" href="{html.escape(url)}" target="_blank" rel="noopener">source</a>\n\n'
             if url else '')
        return f'{a}{hashes} {name}\n'
    if md.lstrip().startswith('---'): md = _DOC_HEADING.sub(link, md)
    md = re.sub(r'\[([^\]]+)\]\(([^)\s]+)\)\{[^}\n]*\}',
                lambda m: f'<a class="source-link" href="{html.escape(m.group(2))}" target="_blank" rel="noopener">'
                          f'{html.escape(m.group(1))}</a>', md)
    return md


def doc_notebook(nb):
    "A copy of `nb` as nbdev's docs would show it: hidden cells dropped, directive lines stripped, show_doc inputs hidden"
    nb = copy.deepcopy(nb)
    cells = []
    sol_idx = {i for sols, _ in exercise_groups(nb.cells) for i in sols}
    exp = [m.group(1) for c in nb.cells if c.cell_type == 'code' for m in [_DEFAULT_EXP.search(c.source)] if m]
    module = exp[0] if exp else None              # the lesson's module: its show_doc links look there first
    for i, cell in enumerate(nb.cells):
        tags = list(cell.metadata.get('tags', [])) if isinstance(cell.metadata.get('tags'), list) else []
        if cell.cell_type == 'markdown':
            src = cell.source.strip()
            if src.startswith('#') and src.splitlines()[0].endswith(' -'): continue   # nbdev's rm_header_dash
            cells.append(cell); continue
        if cell.cell_type != 'code': cells.append(cell); continue
        dirs, body = split_directives(cell.source)
        if dirs.keys() & _HIDE_DIRS or dirs.get('include') == 'false': continue
        if _SHOWDOC.search(body):      # nbdev hides show_doc inputs; here only the show_doc lines, the rest stays shown
            body = '\n'.join(l for l in body.splitlines() if not _SHOWDOC.match(l)).strip('\n')
        cell.source = body
        if dirs.get('echo') == 'false' or not body.strip(): tags.append('remove_input')
        if dirs.get('output') == 'false': cell.outputs = []
        if i in sol_idx: tags.append('solution')
        if not body.strip() and not cell.outputs: continue
        for o in cell.get('outputs', []):
            if o.output_type == 'stream': o.text = _ANSI.sub('', o.text)
            data = o.get('data', {})
            if 'text/markdown' in data:
                md = data['text/markdown']
                data['text/markdown'] = _md_attrs(''.join(md) if isinstance(md, list) else md, module)
        cell.metadata['tags'] = tags
        cells.append(cell)
    nb.cells = cells
    return nb


# ---------------------------------------------------------------------------------------------------------------
# student notebooks

# The first code cell of a student notebook's exercises (its code folded in JupyterLab): every check cell below runs its
# asserts inside `exercise(...)`, which turns what went wrong into one line.
CHECK_HELPER = '''\
# The checks of the exercises below run inside `exercise(...)`: one line says what is missing, what is not right yet,
# or that your answer is correct.
import linecache

class NotYet(Exception):
    "An exercise not solved yet: Jupyter shows this one line instead of a traceback"
    def _render_traceback_(self): return [f'NotYet: {self}']

class exercise:
    def __init__(self, n, title, *names): self.n, self.title, self.names = n, title, names
    def __enter__(self): return self
    def __exit__(self, kind, err, tb):
        if kind is None: print(f'Exercise {self.n}: correct ✓'); return False
        if not issubclass(kind, Exception): return False                  # e.g. KeyboardInterrupt: as usual
        if issubclass(kind, (NameError, NotImplementedError)):
            todo = [x for x in self.names if x not in globals()] or [getattr(err, 'name', None) or 'your answer']
            raise NotYet(f'Exercise {self.n} ({self.title}): define {", ".join(todo)} first — '
                         'run your solution cell above.') from None
        line = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno).strip()   # the check that failed
        why = ' '.join(str(err).split())[:200]
        if not issubclass(kind, AssertionError): why = f'{kind.__name__}: {why} (in `{line}`)'
        raise NotYet(f'Exercise {self.n}: not yet — {why or f"`{line}` is false"}') from None'''


def _exercise_title(cells, sols, k) -> tuple[str, str]:
    "`(number, title)` of the exercise whose solution cells are `sols` (the `k`-th), from the `### Exercise N: title` above"
    for j in range(sols[0] - 1, -1, -1):
        m = list(re.finditer(r'^#+\s*Exercise\s+(\d+)\s*[:.]?\s*(.*?)\s*$', cells[j].source, re.M | re.I)) \
            if cells[j].cell_type == 'markdown' else []
        if m: return m[-1].group(1), m[-1].group(2).replace('`', '')
        if is_solution(cells[j]) or is_check(cells[j]): break    # the exercise before
    return str(k + 1), ''


def wrap_check(src, n, title, names) -> str:
    """A check cell's code run inside `exercise(n, title, *names)` (see `CHECK_HELPER`): its leading comments stay on top,
    the rest is indented under the `with` (but not the inner lines of a multi-line string)"""
    lines = src.splitlines()
    head = []
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith('#')): head.append(lines.pop(0))
    body = '\n'.join(lines)
    inner = set()                                       # lines inside a multi-line string keep their text as is
    try:
        for node in ast.walk(ast.parse(body)):
            if isinstance(node, (ast.Constant, ast.JoinedStr)) and node.end_lineno > node.lineno:
                inner.update(range(node.lineno, node.end_lineno))     # 0-based indices of its second to last line
    except SyntaxError: pass
    args = ', '.join([str(n), repr(title), *map(repr, names)])
    return '\n'.join(head + [f'with exercise({args}):'] +
                     [l if i in inner or not l.strip() else '    ' + l for i, l in enumerate(lines)] +
                     (['    pass'] if not body.strip() else []))


def student_notebook(nb):
    """The student edition of `nb`: each `#| solution` cell's whole source replaced by a stub; each check cell run inside
    `exercise(...)` (defined by a folded cell where the exercises start), so that it answers in one line: which names to
    define first, what is not right yet, or that the answer is correct; outputs of solution and check cells cleared, and,
    to be safe, the outputs of every code cell from the exercises on (they could show an answer)."""
    nb = copy.deepcopy(nb)
    cells = nb.cells
    groups = exercise_groups(cells)
    if not groups: return nb
    first = groups[0][0][0]
    for j in range(first, -1, -1):     # the exercises start at their section heading (`## Exercises`), if any
        if cells[j].cell_type == 'markdown' and re.search(r'^#{1,2}\s+Exercises?\b', cells[j].source, re.M | re.I):
            first = j; break
    for k, (sols, check) in enumerate(groups):
        if check is not None:          # the names the check needs from the solution, else all those it defines
            defined = [n for i in sols for n in assigned_names(split_directives(cells[i].source)[1])]
            src = cells[check].source   # what the check reads and does not define itself
            used = {x.id for x in ast.walk(ast.parse(src)) if isinstance(x, ast.Name) and isinstance(x.ctx, ast.Load)} \
                - set(assigned_names(src)) - {'_'} if _parses(src) else set()
            names = [n for n in dict.fromkeys(defined) if n in used] or [n for n in dict.fromkeys(defined) if not n.startswith('_')]
            cells[check].source = wrap_check(cells[check].source, *_exercise_title(cells, sols, k), names)
            cells[check].metadata.pop('execution', None)
        for i in sols:
            cells[i].source = STUB
            cells[i].metadata.pop('execution', None)
    for i, c in enumerate(cells):
        if c.cell_type == 'code' and (i >= first or is_solution(c) or is_check(c)):
            c.outputs, c.execution_count = [], None
    for sols, check in groups:
        for i in sols + ([check] if check is not None else []):
            cells[i].outputs, cells[i].execution_count = [], None
    helper = nbformat.v4.new_code_cell(CHECK_HELPER, metadata={'jupyter': {'source_hidden': True}})
    helper['id'] = 'exercise-checks'
    cells.insert(first + 1 if cells[first].cell_type == 'markdown' else first, helper)
    return nb


def _parses(src) -> bool:
    try: ast.parse(src); return True
    except SyntaxError: return False


def public_notebook(nb):
    "`nb` without its `#| solution` cells: the lesson as the public site shows it (the answers are in the instructor build)"
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if not is_solution(c)]
    return nb


def copy_data(nbs: Path, dest: Path):
    "The files lessons read beside them (each track's `data/` folder) into `dest`, where the built notebooks run"
    for data in sorted(nbs.glob('*/data')) + sorted(nbs.glob('data')):
        if data.is_dir(): shutil.copytree(data, dest/'data', dirs_exist_ok=True)


def write_student_edition(out: Path, nbs: Path = ROOT/'nbs', say=print) -> dict:
    """The student notebooks and the data files they read, into `out` (`make lab` opens it). A notebook the student has
    changed (or run) is kept as it is: it may hold their work (delete it to get a fresh copy). One still exactly as this
    function wrote it (its SHA-256 is kept in `out/.written.json`) is brought up to date with the lesson."""
    try: lessons = [lesson_info(p) for p in notebooks(nbs)]
    except NotebookError as e: sys.exit(f'build_site: {e}')
    if not lessons: sys.exit(f'build_site: no lesson notebooks (NN_topic.ipynb) in {_shown(nbs)}')
    out.mkdir(parents=True, exist_ok=True)
    record = out/'.written.json'
    hashes = json.loads(record.read_text()) if record.exists() else {}
    sha = lambda b: hashlib.sha256(b).hexdigest()
    written, kept = [], []
    for l in lessons:
        dest, new = out/f'{l["stem"]}.ipynb', nbformat.writes(student_notebook(l['nb'])).encode()
        if dest.exists() and (sha(dest.read_bytes()) != hashes.get(l['stem']) or dest.read_bytes() == new):
            kept.append(l['stem']); continue
        tmp = dest.with_name(dest.name + '.tmp'); tmp.write_bytes(new); tmp.replace(dest)    # never half-written
        hashes[l['stem']] = sha(new); written.append(l['stem'])
    record.write_text(json.dumps(hashes, indent=1))
    copy_data(nbs, out)
    say(f'build_site: {len(written)} student notebooks written to {_shown(out)}'
        + (f'; {len(kept)} kept as they are (yours, or already up to date; delete one to get a fresh copy)' if kept else ''))
    return dict(written=written, kept=kept)


# ---------------------------------------------------------------------------------------------------------------
# vendor files from the npm registry (cached outside git)

def npm_vendor(cache: Path) -> Path:
    "`node_modules` holding the pinned MathJax and reveal.js, installed from the npm registry on first use"
    prefix = cache/'npm'
    mods = prefix/'node_modules'
    def ok(name, ver):
        p = mods/name/'package.json'
        return p.exists() and json.loads(p.read_text()).get('version') == ver
    missing = [f'{n}@{v}' for n, v in NPM_PACKAGES.items() if not ok(n, v)]
    if missing:
        npm = shutil.which('npm')
        if not npm: sys.exit('build_site: npm is needed once to fetch ' + ', '.join(missing) + ' (apt-get install npm)')
        prefix.mkdir(parents=True, exist_ok=True)
        print(f'build_site: npm install {" ".join(missing)} into {prefix}', flush=True)
        subprocess.run([npm, 'install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error',
                        '--prefix', str(prefix), *missing], check=True)
        bad = [n for n, v in NPM_PACKAGES.items() if not ok(n, v)]
        if bad: sys.exit(f'build_site: npm did not install {bad}')
    return mods


# ---------------------------------------------------------------------------------------------------------------
# page chrome (shared by every page)

MATHJAX = """<script>
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
        processEscapes: true, processEnvironments: true},
  svg: {fontCache: 'global'},
  options: {skipHtmlTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code'],
            menuOptions: {settings: {assistiveMml: false}}}
};
</script>
<script defer src="ROOT/assets/mathjax/tex-svg-full.js"></script>"""


def head(title, root, extra=''):
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{root}assets/jupyter.css">
<link rel="stylesheet" href="{root}assets/site.css">
{MATHJAX.replace('ROOT/', root)}
<script defer src="{root}assets/site.js"></script>
{extra}
</head>"""


# the three tracks, as the sidebar and the home page name them
TRACK_NAMES = {'core': 'Core', 'beyond': 'Beyond', 'appendix': 'Appendix'}
TRACK_TITLES = {'core': 'Core: the fast.ai lessons', 'beyond': 'Beyond: rankings, Bayes, cold start, scale, ensembles',
                'appendix': 'Appendix: how the library is built'}


@functools.lru_cache(maxsize=None)
def _course_stats():
    "`scripts/course_stats.py`, which measures each lesson's reading minutes (the README quotes the same numbers)"
    spec = importlib.util.spec_from_file_location('course_stats', Path(__file__).with_name('course_stats.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def reading(l) -> dict:
    "Lesson `l` with its `track` (its folder; for a copy elsewhere, the repository's folder of that name) and `minutes`"
    if 'minutes' not in l:
        cs = _course_stats()
        track = l['path'].parent.name
        if track not in cs.TRACKS: track = next((t for t in cs.TRACKS if (ROOT/'nbs'/t/l['path'].name).exists()), '')
        l['track'], l['minutes'] = track, cs.stats(l['path'])['minutes']
    return l


def tracks(lessons) -> list[tuple[str, list, float]]:
    "`(track, its lessons, its reading minutes)` in course order; lessons in no track come last, under ''"
    ls = [reading(l) for l in lessons]
    out = []
    for t in list(_course_stats().TRACKS) + ['']:
        mine = [l for l in ls if l['track'] == t]
        if mine: out.append((t, mine, sum(l['minutes'] for l in mine)))
    return out


def _hours(minutes, long=False) -> str:
    "A track's reading time, in the README's rounding: `282 min · 4.7 h` (`282 minutes (4.7 hours)` if `long`)"
    return f'{round(minutes)} minutes ({minutes / 60:.1f} hours)' if long else f'{round(minutes)} min · {minutes / 60:.1f} h'


def top(root, lessons, active=None, toc=False):
    "The header, the sidebar (the lessons track by track, with reading minutes) and the opening of the main column"
    groups = []
    for track, ls, total in tracks(lessons):
        items = []
        for l in ls:
            cur = ' class="active"' if l['stem'] == active else ''
            aria = ' aria-current="page"' if l['stem'] == active else ''
            items.append(f'<li{cur}><a href="{root}{l["stem"]}.html"{aria}><span class="num">{l["num"]}</span>'
                         f'<span class="title">{html.escape(l["title"])}</span>'
                         f'<span class="mins" title="reading time">{round(l["minutes"])} min</span></a></li>')
        name = (f'<p class="track-name">{TRACK_NAMES.get(track, track)}<span class="mins">{_hours(total)}</span></p>'
                if track else '')
        groups.append(f'<div class="track">{name}<ol class="lesson-list">{"".join(items)}</ol></div>')
    api_cls = ' class="active"' if active == 'api' else ''
    return f"""<body data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<header class="site-header">
  <button class="nav-toggle" type="button" aria-controls="sidebar" aria-expanded="false">Lessons</button>
  <a class="brand" href="{root}index.html">{SITE_NAME}</a>
  <nav class="top-links" aria-label="Site"><a href="{root}index.html#lessons">Lessons</a><a href="{root}api/index.html">API</a></nav>
  <form class="search-form" action="{root}search.html" method="get" role="search">
    <input type="search" name="q" placeholder="Search the course" aria-label="Search the course">
  </form>
</header>
<div class="layout">
<nav class="sidebar" id="sidebar" aria-label="Lessons">
  {''.join(groups)}
  <p class="api-link"><a{api_cls} href="{root}api/index.html">API reference</a></p>
</nav>
<main class="content{' with-toc' if toc else ''}">"""


BOTTOM = """</main>
</div>
<footer class="site-footer">collab_lessons · built from the committed notebooks · MovieLens-100K © GroupLens Research</footer>
</body>
</html>"""


def lesson_links(l, root=''):
    "The buttons under a lesson's title: slides, student notebook, RISE, API, files it writes; and its reading time"
    files = ''.join(f'<a class="btn" href="{root}{f}" download>{html.escape(what)}</a>' for f, what in l.get('files', {}).items())
    track = reading(l)['track']
    return (f'<div class="lesson-links"><a class="btn" href="{root}slides/{l["stem"]}.slides.html">Slides</a>'
            f'<a class="btn" href="{root}student/{l["stem"]}.ipynb" download>Student notebook</a>'
            + (f'<a class="btn" href="{root}present/{l["stem"]}.ipynb" download title="The lesson with slide breaks, '
               f'to present live in JupyterLab with RISE">Present with RISE</a>' if l.get('present') else '')
            + (f'<a class="btn" href="{root}api/{l["module"]}.html">API: {l["module"]}</a>' if l['module'] else '')
            + files + f'<span class="reading">{round(l["minutes"])} min read'
            + (f' · {TRACK_NAMES.get(track, track).lower()} track' if track else '') + '</span></div>')


def prev_next(lessons, i, root=''):
    prev = (f'<a class="prev" href="{root}{lessons[i-1]["stem"]}.html">← {html.escape(lessons[i-1]["title"])}</a>'
            if i > 0 else '<span></span>')
    nxt = (f'<a class="next" href="{root}{lessons[i+1]["stem"]}.html">{html.escape(lessons[i+1]["title"])} →</a>'
           if i+1 < len(lessons) else '<span></span>')
    return f'<nav class="prev-next" aria-label="Previous and next lesson">{prev}{nxt}</nav>'


def page_toc(page) -> str:
    """"On this page": the h2 and h3 headings of a lesson's prose (its markdown cells, not the API blocks in its outputs),
    folded (site.js unfolds it beside the page on wide screens); '' for a page with fewer than two"""
    items = []
    for cell in re.split(r'(?=<div id="cell-id=)', page):
        if 'jp-MarkdownCell' not in cell[:300]: continue
        for m in re.finditer(r'<h([23])\b[^>]*\sid="([^"]+)"[^>]*>(.*?)</h\1>', cell, re.S):
            items.append(f'<li class="toc-h{m.group(1)}"><a href="#{m.group(2)}">{html.escape(_text(m.group(3)))}</a></li>')
    if len(items) < 2: return ''
    return f'<details class="page-toc"><summary>On this page</summary><ol>{"".join(items)}</ol></details>'


def _unique_ids(page) -> str:
    "`page` with each repeated element id made unique (`x`, then `x-2`, ...), each heading's anchor link on its own id"
    taken, seen = set(re.findall(r'\sid="([^"]+)"', page)), set()
    def one(m):
        old = new = m.group(2)
        if old in seen:
            k = 2
            while f'{old}-{k}' in taken: k += 1
            new = f'{old}-{k}'; taken.add(new)
        seen.add(new)
        return m.group(1) + new + '"'
    page = re.sub(r'(\sid=")([^"]+)"', one, page)
    return re.sub(r'(<h([1-6])\b[^>]*\sid="([^"]+)"[^>]*>(?:(?!</h\2>).)*?<a class="anchor-link" href="#)[^"]*"',
                  lambda m: f'{m.group(1)}{m.group(3)}"', page, flags=re.S)


# ---------------------------------------------------------------------------------------------------------------
# lessons

def render_lesson(exporter, lessons, i) -> str:
    "A lesson's page: the notebook as nbdev's docs show it, the site's chrome, an 'On this page' map of its headings"
    l = lessons[i]
    nb = doc_notebook(l['nb'])
    resources = {'metadata': {'name': l['stem']},
                 'page': {'head': head(f'{l["title"]} · {SITE_NAME}', ''),
                          'top': top('', lessons, l['stem'], toc=True) + '<!--page-toc--><div class="page-main">' + lesson_links(l),
                          'bottom': prev_next(lessons, i) + '</div>' + BOTTOM}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    body = _unique_ids(body)
    return body.replace('<!--page-toc-->', page_toc(body), 1)


WORKBOOK = 'collab_filter.xlsx'        # the Excel sheet the latent-factors lesson writes beside itself (not in git)
_WRITE_WORKBOOK = """import sys
from collab_lessons.data import load_ratings, crosstab
from collab_lessons.latent_factors import init_factors, write_workbook
ct = crosstab(load_ratings())
start = init_factors(*ct.shape, n_factors=5, seed=0)
write_workbook(ct, start['user_factors'], start['item_factors'], sys.argv[1])"""


def copy_workbook(out: Path, lessons, say=print):
    """The latent-factors lesson's Excel workbook into `out`, linked from that lesson's page and the home page: the copy the
    lesson wrote beside itself (or beside the repository's copy of it), else written as the lesson writes it (a few
    seconds, with the package); if neither works, the site goes without it"""
    for l in lessons:
        if l['module'] != 'latent_factors': continue
        track = reading(l)['track']
        found = [p for p in (l['path'].parent/WORKBOOK, ROOT/'nbs'/track/WORKBOOK) if p.is_file()]
        if found: shutil.copy(found[0], out/WORKBOOK)
        else:
            try: subprocess.run([sys.executable, '-c', _WRITE_WORKBOOK, str(out/WORKBOOK)], cwd=out, check=True,
                                capture_output=True, timeout=120)
            except (OSError, subprocess.SubprocessError) as e:
                say(f'  {l["stem"]}: no {WORKBOOK} (run the lesson to write it): {type(e).__name__}')
        if (out/WORKBOOK).is_file(): l['files'] = {WORKBOOK: 'Excel workbook'}


# ---------------------------------------------------------------------------------------------------------------
# slides

SLIDE_PX = 690            # usable height of a 1280x800 slide, in CSS pixels (slides.css sets the sizes below)
MAX_OUT_LINES = 12        # longer text outputs are trimmed to this many lines
MAX_TABLE_ROWS = 8        # longer HTML tables are trimmed to this many rows
MAX_TABLE_COLS = 12       # wider HTML tables keep their first columns
MAX_CODE_LINES = 25       # a longer code cell is cut across sub-slides, between its statements
NOTE_CHARS = 160          # a paragraph (or list item) longer than this is said, not shown: it goes to the speaker notes
PROSE_CHARS, PROSE_PX, CODE_PX, OUT_PX, CODE_CHARS = 100, 31, 23, 20, 105
_SHOWN_SECTIONS = re.compile(r'(Exercises?|Questionnaire)\b', re.I)     # sections whose prose the class reads on the slide


def _wrap_lines(text, width=CODE_CHARS):
    return sum(max(1, -(-len(l)//width)) for l in text.splitlines()) if text else 0


def _trim_text(text, n=MAX_OUT_LINES):
    lines = text.splitlines()
    if len(lines) <= n: return text
    return '\n'.join(lines[:n-1] + [f'… ({len(lines)-n+1} more lines, see the lesson page)'])


def _trim_html(h, n=MAX_TABLE_ROWS, ncols=MAX_TABLE_COLS):
    "An HTML table cut to `n` rows and `ncols` columns, saying how many it left out"
    if h.count('<tr') <= n + 1 and max((r.count('<t') for r in h.split('<tr')[1:]), default=0) <= ncols + 1: return h
    soup = BeautifulSoup(h, 'html.parser')
    changed = False
    for body in soup.find_all('tbody'):
        rows = body.find_all('tr', recursive=False)
        if len(rows) > n:
            for r in rows[n-1:]: r.decompose()
            ncol = max(len(rows[0].find_all(['td', 'th'])), 1)
            tr = soup.new_tag('tr'); td = soup.new_tag('td', colspan=str(ncol)); td.string = f'… {len(rows)-n+1} more rows'
            tr.append(td); body.append(tr); changed = True
    for tr in soup.find_all('tr'):
        cells = tr.find_all(['td', 'th'], recursive=False)
        if len(cells) > ncols and not (len(cells) == 1 and cells[0].get('colspan')):
            for c in cells[ncols-1:]: c.decompose()
            tr.append(soup.new_tag(cells[-1].name)); tr.contents[-1].string = '…'; changed = True
    for p in soup.find_all('p'):                       # pandas' "N rows × M columns" footer
        if re.match(r'\s*\d+ rows × \d+ columns', p.get_text()): p.decompose(); changed = True
    return str(soup) if changed else h


def _trim_outputs(cell):
    "Long text outputs and tables cut short, tracebacks to their last frames (the lesson page has them whole)"
    for o in cell.get('outputs', []):
        if o.output_type == 'stream': o.text = _trim_text(o.text)
        if o.output_type == 'error': o.traceback = o.traceback[-3:]
        data = o.get('data', {})
        if 'text/plain' in data and len(data) == 1: data['text/plain'] = _trim_text(''.join(data['text/plain']))
        if 'text/html' in data: data['text/html'] = _trim_html(''.join(data['text/html']))


def _md_px(md):
    "Estimated height of a markdown chunk on a slide, in pixels"
    px, in_math = 0, False
    for line in md.splitlines():
        s = line.strip()
        if s.startswith('$$'):
            in_math = not (in_math or (s.endswith('$$') and len(s) > 2))
            px += 35; continue
        if in_math: px += 12; continue
        if not s: px += 24; continue
        m = re.match(r'(#+)\s', s)
        if m: px += {1: 80, 2: 62}.get(len(m.group(1)), 50); continue
        if s.startswith('|'): px += 30; continue
        item = re.match(r'([-*]|\d+\.)\s', s)
        px += (36 if item else PROSE_PX) * max(1, -(-len(re.sub(r'\$[^$]*\$', 'xxxx', s)) // (PROSE_CHARS - 8*bool(item))))
    return px + (10 if re.fullmatch(r'\s*#+\s[^\n]*\s*', md) else 34)       # a paragraph's margins


def _out_px(o):
    data = o.get('data', {})
    if o.output_type == 'stream': return OUT_PX * min(_wrap_lines(o.text), MAX_OUT_LINES) + 8
    if 'image/png' in data or 'image/svg+xml' in data or 'image/jpeg' in data: return 390
    if 'text/html' in data:
        rows = len(re.findall(r'<tr', ''.join(data['text/html'])))
        return 25 * min(rows, MAX_TABLE_ROWS + 2) + 40 if rows else 60
    if 'text/markdown' in data: return _md_px(''.join(data['text/markdown']))
    if 'text/plain' in data: return OUT_PX * min(_wrap_lines(''.join(data['text/plain'])), MAX_OUT_LINES) + 8
    if o.output_type == 'error': return 330
    return 30


def _code_px(cell):
    return 0 if 'remove_input' in cell.metadata.get('tags', []) else CODE_PX * _wrap_lines(cell.source) + 14


def _cell_px(cell):
    return _code_px(cell) + sum(_out_px(o) for o in cell.get('outputs', []))


def _split_markdown(src):
    """A markdown cell as chunks a slide can break between: a heading line alone, each numbered item, and the text between
    blank lines outside fences and $$ blocks"""
    chunks, cur, fence, math = [], [], False, False
    for line in src.splitlines():
        s = line.strip()
        if not fence and not math and (re.match(r'#+\s|\d+\.\s', line) or s and cur and re.match(r'#+\s', cur[-1])) and cur:
            chunks.append(cur); cur = []
        if s.startswith('```'): fence = not fence
        if s.startswith('$$') and not (len(s) > 2 and s.endswith('$$') and s != '$$'): math = not math
        if not s and not fence and not math and cur: chunks.append(cur); cur = []; continue
        cur.append(line)
    if cur: chunks.append(cur)
    return ['\n'.join(c) for c in chunks if any(l.strip() for l in c)]


def _split_code(src, n=MAX_CODE_LINES) -> list[str]:
    """`src` in parts of at most about `n` lines as a slide wraps them, each cut where a statement starts: the shallowest
    such place in the second two thirds of the part (comments just above a statement go with it)"""
    lines = src.splitlines()
    if _wrap_lines(src) <= n: return [src]
    try: starts = {min([d.lineno for d in getattr(s, 'decorator_list', [])] + [s.lineno]) - 1
                   for s in ast.walk(ast.parse(src)) if isinstance(s, ast.stmt)}
    except SyntaxError: starts = {i + 1 for i, l in enumerate(lines) if not l.strip()}
    indent = lambda i: len(lines[i]) - len(lines[i].lstrip())
    parts, start = [], 0
    while _wrap_lines('\n'.join(lines[start:])) > n:
        end, used = start, 0
        while end < len(lines) and used + _wrap_lines(lines[end] or ' ') <= n: used += _wrap_lines(lines[end] or ' '); end += 1
        ok = [c for c in starts if start + n // 3 <= c <= end and c < len(lines)]
        cut = min(ok, key=lambda c: (indent(c), -c)) if ok else max(end, start + 1)
        while cut - 1 > start + n // 3 and lines[cut - 1].lstrip().startswith('#'): cut -= 1
        parts.append('\n'.join(lines[start:cut])); start = cut
    parts.append('\n'.join(lines[start:]))
    return [p.strip('\n') for p in parts if p.strip()]


def _is_check(body) -> bool:
    "A cell that only checks: it starts `# check`, or each of its statements is an `assert` or a `test_*(...)` call"
    if body.lstrip().lower().startswith('# check'): return True
    try: stmts = ast.parse(body).body
    except SyntaxError: return False
    return bool(stmts) and all(isinstance(s, ast.Assert) or isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
                               and isinstance(s.value.func, ast.Name) and s.value.func.id.startswith('test_') for s in stmts)


def assigned_names(src) -> list[str]:
    "The names a cell's code defines at its top level (assignments, `def`, `class`, imports, `for`/`with` targets), in order"
    try: tree = ast.parse(src)
    except SyntaxError: return []
    out = []
    def targets(t):
        if isinstance(t, ast.Name): out.append(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)): [targets(e) for e in t.elts]
        elif isinstance(t, ast.Starred): targets(t.value)
    def visit(stmts):
        for s in stmts:
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): out.append(s.name); continue
            if isinstance(s, ast.Assign): [targets(t) for t in s.targets]
            elif isinstance(s, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)): targets(s.target)
            elif isinstance(s, (ast.Import, ast.ImportFrom)): out.extend((a.asname or a.name).split('.')[0] for a in s.names)
            elif isinstance(s, (ast.With, ast.AsyncWith)): [targets(i.optional_vars) for i in s.items if i.optional_vars]
            for field in ('body', 'orelse', 'finalbody'): visit(getattr(s, field, []) or [])
            for h in getattr(s, 'handlers', []): visit(h.body)
    visit(tree.body)
    return list(dict.fromkeys(n for n in out if n != '*'))


def _deck_cells(nb):
    """`nb` as the lesson page shows it (`doc_notebook`), less what a deck never shows: exercise solutions and their checks,
    cells that only check (`assert`, `test_*`), `show_doc` cells (the code above them shows the same signature)"""
    nb = copy.deepcopy(nb)
    drop = {i for sols, chk in exercise_groups(nb.cells) for i in sols + ([chk] if chk is not None else [])}
    def shown(i, c):
        if i in drop: return False
        if c.cell_type != 'code': return True
        body = split_directives(c.source)[1]
        return not (_is_check(body) or body.strip() and all(_SHOWDOC.match(l) for l in body.splitlines() if l.strip()))
    nb.cells = [c for i, c in enumerate(nb.cells) if shown(i, c)]
    return doc_notebook(nb)


def _md_role(chunk, section) -> str:
    "'head' for a heading; 'notes' for prose said rather than shown (a long paragraph, quote or list item); else 'text'"
    s = chunk.strip()
    if re.match(r'#+\s', s): return 'head'
    if _SHOWN_SECTIONS.match(section) or s.startswith(('|', '```', '<')) or '$$' in s: return 'text'
    s = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', s)                                  # a link counts as its text
    items = re.split(r'\n\s*(?:[-*]|\d+\.)\s+', '\n' + s) if re.match(r'([-*]|\d+\.)\s', s) else [s]
    return 'notes' if max(len(' '.join(i.split())) for i in items) > NOTE_CHARS else 'text'


def _code_pieces(cell) -> list:
    "A code cell as slide pieces: its code cut into parts that fit, the outputs after the last, or on their own if too tall"
    hidden = 'remove_input' in cell.metadata.get('tags', [])
    srcs = [cell.source] if hidden else _split_code(cell.source)
    srcs = [p for p in srcs if not _is_check(p)] or srcs[:1]         # a part that only checks is left out, as whole cells are
    pieces = []
    for n, src in enumerate(srcs):
        c = copy.deepcopy(cell); c.source = src; c['id'] = f"{cell.get('id', 'code')}-{n}"; c.outputs = []
        pieces.append(c)
    last, room = pieces[-1], SLIDE_PX - 80                      # room for a heading above
    if _code_px(last) + sum(_out_px(o) for o in cell.get('outputs', [])) <= room or hidden:
        last.outputs = cell.get('outputs', [])
        return pieces
    for o in cell.outputs:                                        # the outputs on the next sub-slide(s), as few as fit
        if not pieces[-1].outputs or _cell_px(pieces[-1]) + _out_px(o) > room:
            c = copy.deepcopy(cell); c['id'] = f"{cell.get('id', 'code')}-out{len(pieces)}"; c.outputs = []
            c.metadata['tags'] = c.metadata.get('tags', []) + ['remove_input']
            pieces.append(c)
        pieces[-1].outputs.append(o)
    return pieces


def _numbered_runs(pieces, start=0) -> list[list[int]]:
    "Indices of the consecutive numbered-item pieces (`1. ...`) from `start` on, one list per run"
    runs, prev = [], False
    for k in range(start, len(pieces)):
        item = pieces[k][1].cell_type == 'markdown' and bool(re.match(r'\s*\d+\.\s', pieces[k][1].source))
        if item and not prev: runs.append([])
        if item: runs[-1].append(k)
        prev = item
    return runs


def _no_lone_headings(pieces):
    """A section whose prose all went to the notes keeps its first paragraph (or numbered list) on the slide, so its
    heading never stands alone"""
    level = lambda i: len(re.match(r'\s*(#+)', pieces[i][1].source).group(1))
    heads = [k for k, (role, _) in enumerate(pieces) if role == 'head'] + [len(pieces)]
    for k, j in zip(heads, heads[1:]):
        if j < len(pieces) and level(j) > level(k): continue                    # a deeper heading follows: the slides merge
        roles = [r for r, _ in pieces[k+1:j]]
        if 'notes' in roles and 'text' not in roles and 'code' not in roles:
            i = k + 1 + roles.index('notes')
            run = next((r for r in _numbered_runs(pieces[:j]) if i in r), [i])
            for i in run: pieces[i] = ('text', pieces[i][1])


def _piece_px(piece) -> int:
    role, cell = piece
    return 0 if role == 'notes' else _md_px(cell.source) if cell.cell_type == 'markdown' else _cell_px(cell)


def _layout(pieces) -> list:
    """The pieces as cells with `slideshow` metadata: a slide at each `#`/`##` heading; a sub-slide at each deeper one, unless
    it fits on the current slide with what follows it (or the slide holds only headings so far); and a sub-slide headed
    "… (continued)" whenever the next piece would not fit"""
    cells, used, heading, only_heads = [], 0, '', True
    for k, (role, cell) in enumerate(pieces):
        if role == 'notes':
            cell.metadata['slideshow'] = {'slide_type': 'notes'}; cells.append(cell); continue
        h, kind = _piece_px((role, cell)), '-'
        if role == 'head':
            m = re.match(r'\s*(#+)\s+(.*)', cell.source)
            heading, kind = m.group(2).strip(), 'slide' if len(m.group(1)) <= 2 else 'subslide'
            after = next((_piece_px(p) for p in pieces[k+1:] if p[0] != 'notes'), 0)
            if kind == 'subslide' and (only_heads and used + h <= SLIDE_PX or used + h + after <= SLIDE_PX): kind = '-'
        if not cells: kind = 'slide'
        if kind == '-' and used + h > SLIDE_PX and not only_heads:
            if heading:
                cont = nbformat.v4.new_markdown_cell(f'<p class="continued">{html.escape(heading)} (continued)</p>')
                cont.metadata['slideshow'] = {'slide_type': 'subslide'}
                cont['id'] = f"{cell.get('id', 'cell')}-cont"
                cells.append(cont); used, only_heads = 30, False
            else: kind = 'subslide'
        if kind == '-': used, only_heads = used + h, only_heads and role == 'head'
        else: used, only_heads = h, role == 'head'
        cell.metadata['slideshow'] = {'slide_type': kind}
        cells.append(cell)
    return cells


def _slide_type(cell): return cell.metadata.get('slideshow', {}).get('slide_type', '-')


def _with_notes(cells) -> list:
    """Consecutive notes as one; a section (horizontal slide) without notes gets some, from its prose on the slides, or
    else the names its code defines"""
    merged = []
    for c in cells:
        if _slide_type(c) == 'notes' and merged and _slide_type(merged[-1]) == 'notes': merged[-1].source += '\n\n' + c.source
        else: merged.append(c)
    out, sections = [], []
    for c in merged:
        if _slide_type(c) == 'slide' or not sections: sections.append([])
        sections[-1].append(c)
    for sec in sections:
        if not any(_slide_type(c) == 'notes' for c in sec):
            prose = [c.source for c in sec if c.cell_type == 'markdown' and not re.match(r'\s*(#|<p class="continued")', c.source)]
            names = [n for c in sec if c.cell_type == 'code' for n in assigned_names(c.source) if not n.startswith('_')]
            text = '\n\n'.join(prose) or ('The code defines ' + ', '.join(f'`{n}`' for n in dict.fromkeys(names)) + '.' if names
                                          else 'Run the code and read what it prints.')
            note = nbformat.v4.new_markdown_cell(text); note['id'] = f"{sec[0].get('id', 'cell')}-notes"
            note.metadata['slideshow'] = {'slide_type': 'notes'}
            sec.insert(1, note)
        out += sec
    return out


def slide_notebook(nb):
    """A copy of `nb` as a reveal.js deck (`slideshow` metadata on each cell): what `_deck_cells` keeps, markdown cut at
    headings, paragraphs and numbered items, code cut between statements. Headings, short lines and lists, tables and math
    stay on the slide, long prose becomes the speaker's notes (`s` in the deck); a slide at each `#`/`##` heading, a
    sub-slide at each deeper one and whenever the next piece would overflow; long outputs trimmed."""
    nb = _deck_cells(nb)
    pieces, section = [], ''                  # (role, cell): 'head', 'text' or 'notes' for markdown, 'code'
    for cell in nb.cells:
        _trim_outputs(cell)
        if cell.cell_type == 'markdown':
            first = len(pieces)
            for n, chunk in enumerate(_split_markdown(cell.source)):
                c = copy.deepcopy(cell); c.source = chunk; c['id'] = f"{cell.get('id', 'md')}-{n}"   # ids stay unique
                m = re.match(r'\s*(#+)\s+(.*)', chunk)
                if m and len(m.group(1)) <= 2: section = m.group(2)
                title = pieces and re.match(r'\s*#\s', pieces[-1][1].source) and chunk.lstrip().startswith('>')
                pieces.append(('text' if title else _md_role(chunk, section), c))      # the lesson's summary stays
            for run in _numbered_runs(pieces, first):                  # a numbered list is said or shown as a whole
                if any(pieces[k][0] == 'notes' for k in run):
                    for k in run: pieces[k] = ('notes', pieces[k][1])
        elif cell.cell_type == 'code': pieces += [('code', c) for c in _code_pieces(cell)]
    _no_lone_headings(pieces)
    nb.cells = _with_notes(_layout(pieces))
    return nb


def _strip_directives(src) -> str:
    "A code cell's source without its nbdev directive lines (a `#| hide_line` comment goes, its line stays: it runs)"
    lines, i = src.splitlines(), 0
    while i < len(lines) and (_DIRECTIVE.match(lines[i]) or not lines[i].strip()): i += 1
    return '\n'.join(_HIDE_LINE.sub('', l).rstrip() for l in lines[i:])


def present_notebook(nb):
    """The lesson to present live with RISE in JupyterLab, runnable top to bottom: every code cell as committed but without
    its nbdev directive lines (`#| hide`, `#| slow` and `#| solution` become cell tags; a solution starts `# Solution`),
    markdown cut as in the deck with long prose as `notes` cells, the deck's slide breaks as `slideshow` metadata, and
    what the deck leaves out (hidden, solution, check and show_doc cells) 'skip'."""
    tagged = copy.deepcopy(nb)
    for i, c in enumerate(tagged.cells): c.metadata['_orig_idx'] = i
    sols = {i for s, _ in exercise_groups(nb.cells) for i in s}
    cells, done, pending = [], 0, False       # done: original cells written so far; pending: a sub-slide break to carry over

    def original(i, kind):
        c = copy.deepcopy(nb.cells[i])
        if c.cell_type == 'code':
            dirs = split_directives(c.source)[0]
            tags = [t for t in ('hide', 'slow', 'solution') if t in dirs]
            if tags: c.metadata['tags'] = list(dict.fromkeys(list(c.metadata.get('tags', [])) + tags))
            c.source = ('# Solution\n' if i in sols else '') + _strip_directives(c.source)
        c.metadata['slideshow'] = {'slide_type': kind}
        return c

    def skip_to(i):                           # the original cells the deck left out, up to `i`, as 'skip'
        nonlocal done
        while done < i: cells.append(original(done, 'skip')); done += 1

    for c in slide_notebook(tagged).cells:
        i, kind = c.metadata.pop('_orig_idx', None), _slide_type(c)
        if i is None and kind != 'notes': pending = True; continue          # a "(continued)" header: the next cell breaks
        if i is not None and i < done and nb.cells[i].cell_type == 'code': continue     # a later part of a cut code cell
        if kind != 'notes': kind, pending = ('subslide' if pending and kind == '-' else kind), False
        if i is None: cells.append(c); continue                              # notes the deck wrote for its section
        skip_to(i)
        if nb.cells[i].cell_type == 'code': cells.append(original(i, kind))
        else: c.metadata['slideshow'] = {'slide_type': kind}; cells.append(c)     # a piece of a markdown cell
        done = i + 1
    skip_to(len(nb.cells))
    out = copy.deepcopy(nb)
    out.cells = cells
    out.metadata['rise'] = {'scroll': True, 'transition': 'none', 'theme': 'white', 'start_slideshow_at': 'beginning',
                            'slideNumber': 'c/t'}
    return out


def render_slides(exporter, l) -> str:
    nb = slide_notebook(l['nb'])
    # math drawn with its own glyphs (no page-wide cache), so that the speaker view's copy of the notes shows it too
    mathjax = MATHJAX.replace('ROOT/', '../').replace("fontCache: 'global'", "fontCache: 'local'")
    resources = {'metadata': {'name': l['stem']},
                 'page': {'title': l['title'], 'mathjax': mathjax, 'lesson': f'../{l["stem"]}.html'}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


# ---------------------------------------------------------------------------------------------------------------
# API reference

@functools.lru_cache(maxsize=None)
def _nbdev_cfg() -> dict:
    "pyproject's [tool.nbdev] section (user, repo, branch, lib_path); {} if it cannot be read"
    try:
        import tomllib
        return tomllib.loads((ROOT/'pyproject.toml').read_text())['tool']['nbdev']
    except Exception: return {}


def _src_url(module, line):
    "Line `line` of the package's `module` on GitHub (from pyproject's [tool.nbdev] user, repo, branch, lib_path)"
    cfg = _nbdev_cfg()
    if not {'user', 'repo'} <= cfg.keys(): return None
    return (f"https://github.com/{cfg['user']}/{cfg['repo']}/blob/{cfg.get('branch', 'main')}/"
            f"{cfg.get('lib_path', 'collab_lessons')}/{module}.py#L{line}")


def _assigned(node) -> list[str]:
    "The names a top-level `x = ...`, `x: T = ...` or `a, b = ...` binds"
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [e.id for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t]) if isinstance(e, ast.Name)]


@functools.lru_cache(maxsize=None)
def _package() -> dict:
    """Every module of the package read with `ast` (never imported, so the build needs neither torch nor the package):
    `{module: dict(src, lines, all, defs, imports)}`. `defs` maps each top-level name, each `Class.method` and each
    fastcore-`@patch`ed `Class.method` to its node; `imports` maps each name a `from .x import y as z` brings in to `(x, y)`."""
    lib = ROOT/_nbdev_cfg().get('lib_path', 'collab_lessons')
    out = {}
    for path in sorted(lib.glob('*.py')):
        if path.stem.startswith('_'): continue                  # __init__, nbdev's _modidx
        src = path.read_text()
        tree = ast.parse(src)
        mod = dict(src=src, lines=src.splitlines(), all=[], defs={}, imports={}, doc=(ast.get_docstring(tree) or '').strip())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or '').startswith(lib.name + '.')):
                for a in node.names:
                    mod['imports'][a.asname or a.name] = ((node.module or '').removeprefix(lib.name + '.'), a.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for name in _assigned(node):
                    if name == '__all__' and isinstance(node.value, (ast.List, ast.Tuple)):
                        mod['all'] = [c.value for c in node.value.elts if isinstance(c, ast.Constant)]
                    else: mod['defs'].setdefault(name, node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                cls = _patched_class(node) if not isinstance(node, ast.ClassDef) else None
                if cls: mod['defs'].setdefault(f'{cls}.{node.name}', node)
                else:
                    mod['defs'][node.name] = node
                    for m in node.body if isinstance(node, ast.ClassDef) else []:
                        if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)): mod['defs'][f'{node.name}.{m.name}'] = m
        out[path.stem] = mod
    return out


def _defined(module, name, depth=0):
    "`(module, node)` where `name` (`f`, `Cls`, `Cls.method`) seen from `module` is defined, following imports; or None"
    mod = _package().get(module)
    if mod is None or depth > 8: return None
    if name in mod['defs']: return module, mod['defs'][name]
    head, dot, rest = name.partition('.')
    if head in mod['imports']:
        src, src_name = mod['imports'][head]
        return _defined(src, src_name + dot + rest, depth + 1)
    return None


def _source(name, *modules) -> tuple[str, int] | None:
    """`(module, line)` of the definition of `name` (`f`, `Cls` or `Cls.method`): as seen from the first of `modules` that
    has it (defined or imported there), else wherever the package defines it (a method patched on from another module too)"""
    found = next((d for m in modules if m for d in [_defined(m, name)] if d), None)
    if not found:
        head, dot, rest = name.partition('.')
        cls = next((d for m in modules if m for d in [_defined(m, head)] if d), None) if dot else None
        where = [cls[0]] if cls else []                         # the class's own module first, then every module
        found = next((d for m in where + list(_package()) for d in [_defined(m, name)] if d), None)
    return (found[0], found[1].lineno) if found else None


def _header(node, lines):
    "The `def`/`class` header of `node` as written in the source: decorators, signature and its comments (docments)"
    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
    first = node.body[0]
    if first.lineno > node.lineno:
        hdr = '\n'.join(lines[start-1:first.lineno-1]).rstrip()
        if not hdr.rstrip().endswith(':'):          # a body that starts on the header's last line
            hdr = hdr[:hdr.rfind(':') + 1] if ':' in hdr else hdr
        return hdr
    n = copy.deepcopy(node); n.body = [ast.Pass()]; n.decorator_list = []
    return ast.unparse(n).rsplit('\n', 1)[0]


def _patched_class(node):
    "`Cls` for a function decorated with fastcore's `@patch` whose first argument is annotated `self: Cls`"
    decos = [d.func if isinstance(d, ast.Call) else d for d in node.decorator_list]
    if not any(isinstance(d, ast.Name) and d.id in ('patch', 'patch_to') for d in decos): return None
    args = node.args.posonlyargs + node.args.args
    ann = args[0].annotation if args else None
    return ann.id if isinstance(ann, ast.Name) else (ann.value if isinstance(ann, ast.Constant) else None)


def _constructor(node, module, depth=0) -> str | None:
    """The arguments a class is called with: its `__init__`'s without `self`, a dataclass's or NamedTuple's fields, or
    those of the nearest base class the package defines; None if the class takes what a base outside the package takes"""
    init = next((m for m in node.body if isinstance(m, ast.FunctionDef) and m.name == '__init__'), None)
    if init:
        args = copy.deepcopy(init.args)
        if args.posonlyargs: args.posonlyargs.pop(0)
        elif args.args: args.args.pop(0)
        return ast.unparse(args)
    names = {ast.unparse(d.func if isinstance(d, ast.Call) else d).split('.')[-1] for d in node.decorator_list}
    bases = [ast.unparse(b).split('.')[-1] for b in node.bases]
    if names & {'dataclass', 'define', 'frozen'} or 'NamedTuple' in bases:
        fields = [f for f in node.body if isinstance(f, ast.AnnAssign) and isinstance(f.target, ast.Name)
                  and 'ClassVar' not in ast.unparse(f.annotation)]
        return ', '.join(ast.unparse(f.target) + ': ' + ast.unparse(f.annotation)
                         + (f' = {ast.unparse(f.value)}' if f.value is not None else '') for f in fields)
    for b in node.bases:
        base = _defined(module, ast.unparse(b)) if isinstance(b, ast.Name) else None
        if base and isinstance(base[1], ast.ClassDef) and depth < 5:
            found = _constructor(base[1], base[0], depth + 1)
            if found is not None: return found
    return None


def _class_header(node, module, lines) -> str:
    "How a class is called, `class Name(arg, ...)`, with its bases as a comment; its header as written if that is unknown"
    args = _constructor(node, module)
    if args is None: return _header(node, lines)
    bases = ', '.join(ast.unparse(b) for b in node.bases)
    call = f'class {node.name}({args})'
    if len(call) > 100: call = f'class {node.name}(\n    {args}\n)'
    return call + (f'    # bases: {bases}' if bases else '')


def _heading(level, name, text=None):
    "An `<hN>` with the id `_slug(name)` and its anchor link, as nbconvert writes the lessons' headings"
    return (f'<h{level} id="{_slug(name)}">{html.escape(text or name)}'
            f'<a class="anchor-link" href="#{_slug(name)}">&#182;</a></h{level}>')


def _item_md(module, name, node, lines, level=3, lesson_ids=(), lesson=None):
    "One documented name as HTML: links (to the lesson, to the source line), heading, signature, docstring"
    doc = ast.get_docstring(node) or ''
    url = _src_url(module, node.lineno)
    links = []
    if lesson and name in lesson_ids:
        links.append(f'<a href="../{lesson["stem"]}.html#{html.escape(name)}">in the lesson</a>')
    if url: links.append(f'<a class="source-link" href="{html.escape(url)}" target="_blank" rel="noopener">source</a>')
    hdr = _class_header(node, module, lines) if isinstance(node, ast.ClassDef) else _header(node, lines)
    return (f'<div class="api-head">{_heading(level, name)}<span class="api-links">{" · ".join(links)}</span></div>'
            + markdown2html_mistune(f'```python\n{hdr}\n```\n\n' + (f'{doc}\n' if doc else '')))


def _slug(name): return re.sub(r'[^\w.-]', '-', name)


def _constant_rows(module, names) -> str:
    "One row per one-line constant: name, value, the comment beside it, a link to its line"
    mod, rows = _package()[module], []
    for name in names:
        node = mod['defs'][name]
        line = mod['lines'][node.lineno - 1]
        code, comment = (line.split('  #', 1) + [''])[:2] if '  #' in line else (line, '')
        value = code.split('=', 1)[1].strip() if '=' in code else code
        if len(_assigned(node)) > 1:                  # `BS, LR, EPOCHS = 512, 1e-2, 5`: this name's own value, as written
            vals = node.value.elts if isinstance(node.value, ast.Tuple) else []
            i = _assigned(node).index(name)
            value = ast.get_source_segment(mod['src'], vals[i]) if i < len(vals) else value
        url = _src_url(module, node.lineno)
        note = markdown2html_mistune(comment.strip().lstrip('#').strip())
        rows.append(f'<tr id="{_slug(name)}"><td><code>{html.escape(name)}</code></td><td><code>{html.escape(value)}</code></td>'
                    f'<td>{note}</td><td>'
                    + (f'<a class="source-link" href="{html.escape(url)}" target="_blank" rel="noopener">source</a>' if url else '')
                    + '</td></tr>')
    return ''.join(rows)


def _is_constant(node, src) -> bool:
    "A module-level value written on one line (it gets a row of the constants table, not a block of its own)"
    return isinstance(node, (ast.Assign, ast.AnnAssign)) and '\n' not in (ast.get_source_segment(src, node) or '\n')


def api_pages(lessons, lesson_ids=None) -> dict[str, dict]:
    """`{module: page parts}` for every exported module, in lesson order, read from the exported source with `ast`
    (signatures as written, with their comments, and docstrings), so the build needs neither torch nor the package.
    Every name of the module's `__all__` gets a block (a name imported into the module is documented from where it is
    defined); its public UPPER_CASE constants, and the exported ones, a row each in one table when written on one line."""
    lesson_ids = lesson_ids or {}
    pages = {}
    for l in lessons:
        module = l['module']
        if not module or module not in _package(): continue
        mod = _package()[module]
        upper = [n for n, node in mod['defs'].items() if re.fullmatch(r'[A-Z][A-Z0-9_]*', n)
                 and isinstance(node, (ast.Assign, ast.AnnAssign))]
        names = mod['all'] + [n for n in sorted(upper, key=lambda n: mod['defs'][n].lineno) if n not in mod['all']]
        consts = [n for n in names if n in mod['defs'] and _is_constant(mod['defs'][n], mod['src'])]
        ids = lesson_ids.get(l['stem'], set())
        parts, toc = [], []
        if consts:
            parts.append('<section class="api-item api-constants"><hr>' + _heading(3, 'constants', 'Constants')
                         + '<div class="table-scroll"><table class="api-constants"><thead><tr><th>name</th><th>value</th>'
                         f'<th>what it is</th><th>source</th></tr></thead><tbody>{_constant_rows(module, consts)}</tbody></table></div></section>')
        for name in names:
            toc.append(f'<li><a href="#{_slug(name)}"><code>{html.escape(name)}</code></a></li>')
            if name in consts: continue
            found = _defined(module, name)
            where, node = found if found else (module, None)
            lines = _package()[where]['lines']
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                parts.append('<section class="api-item"><hr>' + _item_md(where, name, node, lines, 3, ids, l)
                             + ('' if where == module else f'<p class="api-from">Defined in <a href="{where}.html#{_slug(name)}">'
                                f'<code>collab_lessons.{where}</code></a>, imported here.</p>'))
                if isinstance(node, ast.ClassDef):
                    ms = [m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
                    ms += [d for k, d in _package()[where]['defs'].items() if k.startswith(name + '.') and d not in ms]
                    for m in ms:
                        if m.name.startswith('_') or not ast.get_docstring(m): continue   # public, documented methods
                        parts.append('<div class="api-method">'
                                     + _item_md(where, f'{name}.{m.name}', m, lines, 4, ids, l) + '</div>')
                parts.append('</section>')
            elif node is not None:
                code = ast.get_source_segment(_package()[where]['src'], node) or name
                if len(code) > 600: code = code[:600] + ' …'
                url = _src_url(where, node.lineno)
                parts.append(f'<section class="api-item"><hr><div class="api-head">{_heading(3, name)}'
                             + (f'<span class="api-links"><a class="source-link" href="{html.escape(url)}" target="_blank" '
                                f'rel="noopener">source</a></span>' if url else '')
                             + '</div>' + markdown2html_mistune(f'```python\n{code}\n```') + '</section>')
            else:
                parts.append(f'<section class="api-item"><hr>{_heading(3, name)}'
                             f'<p>(imported into <code>{module}</code>)</p></section>')
        pages[module] = dict(lesson=l, doc=mod['doc'], names=names, toc=''.join(toc), body=''.join(parts))
    return pages


def render_api(lessons, pages, module) -> str:
    p, l = pages[module], pages[module]['lesson']
    body = (f'<h1 id="module">collab_lessons.{module}</h1>'
            f'<p class="summary">{markdown2html_mistune(p["doc"])}</p>'
            f'<p>Built in lesson <a href="../{l["stem"]}.html">{l["num"]} · {html.escape(l["title"])}</a>. '
            f'<code>from collab_lessons.{module} import …</code></p>'
            + (f'<nav class="api-toc" aria-label="Names in this module"><ul>{p["toc"]}</ul></nav>' if p['toc'] else '<p>No public names.</p>')
            + p['body'])
    return head(f'collab_lessons.{module} · API · {SITE_NAME}', '../') + top('../', lessons, 'api') + \
        f'<article class="api-page">{_unique_ids(body)}</article>' + BOTTOM


def render_api_index(lessons, pages) -> str:
    rows = ''.join(f'<tr><td><a href="{m}.html"><code>collab_lessons.{m}</code></a></td>'
                   f'<td>{markdown2html_mistune(p["doc"])}</td><td>{len(p["names"])}</td></tr>' for m, p in pages.items())
    body = ('<h1 id="api-reference">API reference</h1><p>One page per module of the <code>collab_lessons</code> package, '
            'generated from the signatures and docstrings of the names each module exports (its <code>__all__</code>), '
            'in lesson order. Each module is written in the lesson of the same name.</p>'
            f'<table class="map"><thead><tr><th>module</th><th>what it holds</th><th>names</th></tr></thead><tbody>{rows}</tbody></table>')
    return head(f'API reference · {SITE_NAME}', '../') + top('../', lessons, 'api') + f'<article>{body}</article>' + BOTTOM


# ---------------------------------------------------------------------------------------------------------------
# home page, from site/home.md

def readme_sections(text) -> list[tuple[str, str]]:
    "README.md as `(heading, markdown)` pairs, the intro first with heading ''"
    parts, cur, buf = [], '', []
    for line in text.splitlines():
        if line.startswith('## '):
            parts.append((cur, '\n'.join(buf))); cur, buf = line[3:].strip(), []
        elif line.startswith('# ') and not parts and not cur: continue
        else: buf.append(line)
    parts.append((cur, '\n'.join(buf)))
    return parts


def readme_lesson_table(md) -> dict[str, str]:
    "`{stem: what it teaches}` from README's lesson tables (`| `core/00_data` | 24 | what it teaches |`)"
    out = {}
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        m = re.fullmatch(r'`?(?:\w+/)?(\d\d_\w+)`?', cells[0]) if len(cells) >= 3 else None
        if m: out[m.group(1)] = cells[-1]
    return out


def track_table(ls, teaches, root='') -> str:
    "One track's lessons: number, title, what it teaches, reading minutes, slides, student notebook"
    rows = ''.join(
        f'<tr><td class="num">{l["num"]}</td><td><a href="{root}{l["stem"]}.html">{html.escape(l["title"])}</a></td>'
        f'<td>{markdown2html_mistune(teaches.get(l["stem"]) or l["summary"])}</td><td class="mins">{round(l["minutes"])}</td>'
        f'<td><a href="{root}slides/{l["stem"]}.slides.html">slides</a></td>'
        f'<td><a href="{root}student/{l["stem"]}.ipynb" download>notebook</a></td></tr>' for l in ls)
    return ('<div class="table-scroll"><table class="map"><thead><tr><th>#</th><th>lesson</th><th>what it teaches</th>'
            f'<th>minutes</th><th>slides</th><th>student</th></tr></thead><tbody>{rows}</tbody></table></div>')


def render_home(lessons) -> str:
    "The home page: `site/home.md` (Jinja2, then Markdown) with the tracks' tables and times from `course_stats`"
    import jinja2
    readme = (ROOT/'README.md').read_text() if (ROOT/'README.md').exists() else ''
    teaches = {}
    for h, md in readme_sections(readme):
        if h.lower().startswith('lesson'): teaches = readme_lesson_table(md)
    groups = []
    for track, ls, total in tracks(lessons):
        name = TRACK_TITLES.get(track, 'More lessons')
        groups.append(f'<h3 id="{track or "more"}">{html.escape(name)} <span class="mins">{_hours(total, long=True)}</span></h3>'
                      + track_table(ls, teaches))
    cfg = _nbdev_cfg()
    workbook = next((f for l in lessons for f in l.get('files', {})), None)
    md = jinja2.Template((SITE_SRC/'home.md').read_text()).render(
        n_lessons=len(lessons), total=_hours(sum(reading(l)['minutes'] for l in lessons), long=True),
        tracks=''.join(groups), students='student/', workbook=workbook, instructor=any(l.get('present') for l in lessons),
        repo=f"https://github.com/{cfg.get('user', 'collab-lessons')}/{cfg.get('repo', SITE_NAME)}")
    body = markdown2html_mistune(md)
    body = re.sub(r'(<h[1-6] id=")([^"]+)"', lambda m: m.group(1) + _slug(m.group(2).lower()) + '"', body)   # #lessons
    return head(f'{SITE_NAME}: collaborative filtering, the fast.ai way', '') + top('', lessons, None) + \
        '<article class="home">' + _unique_ids(body) + '</article>' + BOTTOM


def render_students(lessons) -> str:
    "`student/index.html`: every student notebook to download, track by track (the home page's 'all of them')"
    groups = ''.join(
        f'<h2 id="{track or "more"}">{html.escape(TRACK_TITLES.get(track, "More lessons"))} '
        f'<span class="mins">{_hours(total, long=True)}</span></h2><ul class="downloads">'
        + ''.join(f'<li><a href="{l["stem"]}.ipynb" download><code>{l["stem"]}.ipynb</code></a> · '
                  f'<a href="../{l["stem"]}.html">{html.escape(l["title"])}</a> · {round(l["minutes"])} min</li>' for l in ls)
        + '</ul>' for track, ls, total in tracks(lessons))
    body = ('<h1 id="student-notebooks">Student notebooks</h1><p>Each lesson as a notebook with every exercise\'s solution '
            'replaced by a stub; the checks stay, and tell you when you got it. Run them in JupyterLab: in a clone of '
            'the repository, <code>make lab</code> sets everything up and opens the notebooks.</p>' + groups)
    return head(f'Student notebooks · {SITE_NAME}', '../') + top('../', lessons, None) + f'<article>{body}</article>' + BOTTOM


def render_search(lessons) -> str:
    body = ('<h1 id="search">Search</h1><form class="search-page-form" action="search.html" method="get">'
            '<input id="search-input" type="search" name="q" placeholder="e.g. weight decay, sigmoid_range, NDCG" '
            'aria-label="Search the course" autofocus></form><p id="search-count"></p><ol id="search-results"></ol>')
    extra = '<script defer src="assets/search_index.js"></script><script defer src="assets/search.js"></script>'
    return head(f'Search · {SITE_NAME}', '', extra) + top('', lessons, None) + f'<article>{body}</article>' + BOTTOM


def _text(fragment):
    t = re.sub(r'<(script|style)\b.*?</\1>', ' ', fragment, flags=re.S)
    t = re.sub(r'</?span\b[^>]*>', '', t)                     # pygments' tokens: keep `f(x)` together
    t = re.sub(r'<a class="anchor-link".*?</a>', ' ', t, flags=re.S)
    return re.sub(r'\s+', ' ', html.unescape(re.sub(r'<[^>]+>', ' ', t))).strip()


def search_entries(page_html, url, page_title) -> list[dict]:
    "One search entry per section (each h1-h4 with an id: h4 for the API's methods) of a built page's main content"
    main = page_html.split('<main', 1)[-1].split('</main>', 1)[0]
    main = re.sub(r'<nav class="prev-next".*?</nav>|<div class="lesson-links">.*?</div>|<details class="page-toc">.*?</details>'
                  r'|<nav class="api-toc".*?</nav>|<span class="api-links">.*?</span>', ' ', main, flags=re.S)
    cells = re.split(r'(?=<div id="cell-id=)', main)            # exercise solutions stay out of the index
    main = ''.join(c for c in cells if 'celltag_solution' not in c[:400])
    parts = re.split(r'(<h[1-4][^>]*\sid="[^"]+"[^>]*>.*?</h[1-4]>)', main, flags=re.S)
    out = [{'u': url, 't': page_title, 'p': page_title, 'x': _text(parts[0])[:4000]}] if _text(parts[0]) else []
    for hdr, body in zip(parts[1::2], parts[2::2]):
        anchor = re.search(r'\sid="([^"]+)"', hdr).group(1)
        out.append({'u': f'{url}#{anchor}', 't': _text(hdr), 'p': page_title, 'x': _text(body)[:4000]})
    return out


# ---------------------------------------------------------------------------------------------------------------
# assets

def write_assets(out: Path, mods: Path):
    a = out/'assets'
    (a/'mathjax').mkdir(parents=True, exist_ok=True)
    (a/'reveal').mkdir(parents=True, exist_ok=True)
    for f in ('site.css', 'site.js', 'search.js', 'slides.css'): shutil.copy(SITE_SRC/'static'/f, a/f)
    # JupyterLab's notebook CSS (shipped with nbconvert) + the pygments style, written once for every page
    from jupyter_core.paths import jupyter_path
    from pygments.formatters import HtmlFormatter
    cands = [Path(p)/'nbconvert/templates/lab/static' for p in jupyter_path()]
    static = next(p for p in cands if (p/'index.css').exists())
    css = (static/'index.css').read_text() + '\n' + (static/'theme-light.css').read_text() + '\n' + \
        HtmlFormatter(style='default').get_style_defs('.highlight')
    (a/'jupyter.css').write_text(css)
    shutil.copy(mods/'mathjax/es5/tex-svg-full.js', a/'mathjax/tex-svg-full.js')
    rv = mods/'reveal.js'
    for src, dst in [('dist/reveal.js', 'reveal.js'), ('dist/reveal.css', 'reveal.css'),
                     ('plugin/notes/notes.js', 'notes.js'), ('LICENSE', 'LICENSE')]:
        shutil.copy(rv/src, a/'reveal'/dst)
    # the white theme without its @import of a web font (system fonts instead)
    theme = (rv/'dist/theme/white.css').read_text()
    theme = re.sub(r'@import url\([^)]*\);?', '', theme).replace('Source Sans Pro', 'system-ui')
    (a/'reveal'/'theme.css').write_text(theme)
    shutil.copy(mods/'mathjax/LICENSE', a/'mathjax/LICENSE')


# ---------------------------------------------------------------------------------------------------------------

def build(out: Path = ROOT/'_site', cache: Path = ROOT/'_site_cache', quiet=False, nbs: Path = ROOT/'nbs',
          instructor=False) -> dict:
    """Build the site from the lesson notebooks in `nbs` into `out` (through `out`.tmp, removed if the build fails).
    A notebook that cannot be read stops the build (SystemExit naming the file and the cell) before anything is written.
    The public site holds no answers: its lesson pages leave the `#| solution` cells out, and it has no `present/`. The
    `instructor` build (`_site_instructor/`, never published) has the solutions on the lesson pages (folded) and `present/`,
    the lessons with their answers to present live with RISE."""
    t0 = time.time()
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    try: lessons = [lesson_info(p) for p in notebooks(nbs)]
    except NotebookError as e: sys.exit(f'build_site: {e}')
    if not lessons: sys.exit(f'build_site: no lesson notebooks (NN_topic.ipynb) in {_shown(nbs)}')
    mods = npm_vendor(cache)
    tmp = out.with_name(out.name + '.tmp')
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        pages, index = _write_site(tmp, lessons, mods, nbs, say, instructor)
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    secs = time.time() - t0
    say(f'build_site: {len(lessons)} lessons, {len(pages)} API pages, {len(index)} search entries -> {out} in {secs:.1f}s')
    return dict(lessons=[l['stem'] for l in lessons], modules=list(pages), seconds=secs, instructor=instructor)


def _write_site(tmp: Path, lessons, mods: Path, nbs: Path, say, instructor=False) -> tuple[dict, list]:
    """Every page, deck, notebook and asset of the site into the new folder `tmp`: `(API pages, search index)`; `present/`
    and the solutions on the lesson pages only in the `instructor` build"""
    (tmp/'slides').mkdir(parents=True); (tmp/'student').mkdir(); (tmp/'api').mkdir()
    if instructor: (tmp/'present').mkdir()
    write_assets(tmp, mods)
    copy_workbook(tmp, lessons, say)
    if (nbs/'images').is_dir(): shutil.copytree(nbs/'images', tmp/'images')
    for dest in ('student', 'present') if instructor else ('student',): copy_data(nbs, tmp/dest)   # the runnable copies need them
    # the lesson pages: the public site's without the solutions; only the instructor's link to present/
    shown = [dict(l, nb=l['nb'] if instructor else public_notebook(l['nb']), present=instructor) for l in lessons]

    tpl = [str(SITE_SRC/'templates')]
    html_exp = LessonExporter(template_name='lab', template_file='lesson.html.j2', extra_template_paths=tpl,
                            exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True)
    html_exp.register_preprocessor(_tag_remover(), enabled=True)
    html_exp.register_filter('clean_html', _trusted)
    slide_exp = DeckExporter(template_name='reveal', template_file='slides.html.j2', extra_template_paths=tpl,
                               exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True)
    slide_exp.register_preprocessor(_tag_remover(), enabled=True)
    slide_exp.register_filter('clean_html', _trusted)

    index, timings, lesson_ids = [], {}, {}
    for i, l in enumerate(lessons):
        t = time.time()
        try:
            page = render_lesson(html_exp, shown, i)
            (tmp/f'{l["stem"]}.html').write_text(page)
            lesson_ids[l['stem']] = set(re.findall(r'<h[1-6][^>]*\sid="([^"]+)"', page))
            index += search_entries(page, f'{l["stem"]}.html', f'{l["num"]} · {l["title"]}')
            (tmp/'slides'/f'{l["stem"]}.slides.html').write_text(render_slides(slide_exp, l))
            nbformat.write(student_notebook(l['nb']), tmp/'student'/f'{l["stem"]}.ipynb')
            if instructor: nbformat.write(present_notebook(l['nb']), tmp/'present'/f'{l["stem"]}.ipynb')
        except Exception as e:
            e.add_note(f'build_site: while building {_shown(l["path"])}')
            raise
        timings[l['stem']] = time.time() - t
        say(f'  {l["stem"]}: page, slides, student notebook ({timings[l["stem"]]:.1f}s)')

    t = time.time()
    pages = api_pages(lessons, lesson_ids)
    for m in pages:
        page = render_api(lessons, pages, m)
        (tmp/'api'/f'{m}.html').write_text(page)
        index += search_entries(page, f'api/{m}.html', f'API · collab_lessons.{m}')
    (tmp/'api'/'index.html').write_text(render_api_index(lessons, pages))
    say(f'  api: {len(pages)} module pages ({time.time()-t:.1f}s)')

    home = render_home(shown)
    (tmp/'index.html').write_text(home)
    index = search_entries(home, 'index.html', 'Home') + index
    (tmp/'search.html').write_text(render_search(lessons))
    (tmp/'student'/'index.html').write_text(render_students(lessons))
    (tmp/'assets'/'search_index.js').write_text('window.SEARCH_INDEX = ' + json.dumps(index, ensure_ascii=False) + ';\n')
    (tmp/'.nojekyll').write_text('')
    return pages, index


class _Fast:
    "nbconvert's HTML exporters without their final BeautifulSoup pass over the whole page (most of the build time)"
    def from_notebook_node(self, nb, resources=None, **kw):
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
        lexer = nb.metadata.get('language_info', {}).get('pygments_lexer', 'ipython3')
        resources = self._init_resources(resources)
        self.register_filter('highlight_code', Highlight2HTML(pygments_lexer=lexer, parent=self))
        self.register_filter('filter_data_type', WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                                      resources=resources))
        out, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return re.sub(r'<img (?![^>]*\balt=)', '<img alt="a figure the cell above drew" ', out), resources


class LessonExporter(_Fast, HTMLExporter): pass
class DeckExporter(_Fast, SlidesExporter): pass


def _trusted(x):
    "nbconvert sanitises each cell's HTML with bleach (most of the build time); these are our own committed notebooks"
    return x


def _tag_remover():
    from nbconvert.preprocessors import TagRemovePreprocessor
    return TagRemovePreprocessor(remove_cell_tags={'remove_cell'}, remove_input_tags={'remove_input'},
                                 remove_all_outputs_tags={'remove_output'}, enabled=True)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', help='output folder (default: _site; _site_instructor with --instructor; student with --student-only)')
    ap.add_argument('--cache', default=str(ROOT/'_site_cache'), help='where npm packages are cached (default: _site_cache)')
    ap.add_argument('--nbs', default=str(ROOT/'nbs'), help='folder of the lesson notebooks (default: nbs)')
    ap.add_argument('--instructor', action='store_true',
                    help='the instructor build: lesson pages with the solutions, and present/ (RISE copies with the answers)')
    ap.add_argument('--student-only', action='store_true',
                    help='only the student notebooks and their data files, in seconds; a notebook already there is kept')
    a = ap.parse_args()
    if a.student_only: write_student_edition(Path(a.out or ROOT/'student'), Path(a.nbs))
    else: build(Path(a.out or ROOT/('_site_instructor' if a.instructor else '_site')), Path(a.cache), nbs=Path(a.nbs),
                instructor=a.instructor)
