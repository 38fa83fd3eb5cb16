#!/usr/bin/env python
"""Build the course website `_site/` from the committed notebooks, without re-executing them.

    python scripts/build_site.py            # -> _site/ (vendor files cached in _site_cache/)

What it writes:
- `index.html`: what the course is, for whom, the lesson map (from README.md);
- `NN_topic.html`: one page per lesson `nbs/NN_topic.ipynb`, rendered from its stored outputs, with nbdev's directives
  honoured (`#| hide` / `#| default_exp` cells left out, other `#|` lines stripped, `show_doc` inputs hidden);
- `api/index.html`, `api/MODULE.html`: an API reference per module (nbdev's `show_doc` of every name in `__all__`);
- `slides/NN_topic.slides.html`: a reveal.js deck per lesson, slide breaks from the headings, long outputs trimmed;
- `student/NN_topic.ipynb`: the lesson with every `#| solution` cell replaced by a stub and exercise outputs cleared;
- `present/NN_topic.ipynb`: the whole lesson with the deck's slide breaks as metadata, to present live with RISE;
- `search.html` + `assets/search_index.js`: a local full-text search over every section.

Every asset is local. MathJax 3 and reveal.js come from the npm registry (`npm install` into `_site_cache/`, pinned
below) at build time; nothing vendored is committed, nothing is loaded from a CDN, no web font is used.
"""
from __future__ import annotations
import argparse, ast, copy, html, json, re, shutil, subprocess, sys, time
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
            check = next((j for j in range(sols[-1]+1, len(cells)) if cells[j].cell_type == 'code'), None)
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


def _md_attrs(md: str) -> str:
    "Pandoc/Quarto attribute syntax that nbdev's `show_doc` emits (`[source](url){target=... style=...}`) as HTML"
    md = re.sub(r'\[([^\]]+)\]\(([^)\s]+)\)\{[^}\n]*\}',
                lambda m: f'<a class="source-link" href="{html.escape(m.group(2))}" target="_blank" rel="noopener">'
                          f'{html.escape(m.group(1))}</a>', md)
    return md


def doc_notebook(nb):
    "A copy of `nb` as nbdev's docs would show it: hidden cells dropped, directive lines stripped, show_doc inputs hidden"
    nb = copy.deepcopy(nb)
    cells = []
    sol_idx = {i for sols, _ in exercise_groups(nb.cells) for i in sols}
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
                data['text/markdown'] = _md_attrs(''.join(md) if isinstance(md, list) else md)
        cell.metadata['tags'] = tags
        cells.append(cell)
    nb.cells = cells
    return nb


# ---------------------------------------------------------------------------------------------------------------
# student notebooks

def student_notebook(nb):
    """The student edition of `nb`: each `#| solution` cell's whole source replaced by a stub, outputs of solution and
    check cells cleared, and, to be safe, the outputs of every code cell from the exercises on (they could show an answer)."""
    nb = copy.deepcopy(nb)
    cells = nb.cells
    groups = exercise_groups(cells)
    if not groups: return nb
    first = groups[0][0][0]
    for j in range(first, -1, -1):     # the exercises start at their section heading (`## Exercises`), if any
        if cells[j].cell_type == 'markdown' and re.search(r'^#{1,2}\s+Exercises?\b', cells[j].source, re.M | re.I):
            first = j; break
    for sols, check in groups:
        for i in sols:
            cells[i].source = STUB
            cells[i].metadata.pop('execution', None)
        if check is not None: cells[check].metadata.pop('execution', None)
    for i, c in enumerate(cells):
        if c.cell_type == 'code' and (i >= first or is_solution(c) or c.source.lstrip().lower().startswith('# check')):
            c.outputs, c.execution_count = [], None
    for sols, check in groups:
        for i in sols + ([check] if check is not None else []):
            cells[i].outputs, cells[i].execution_count = [], None
    return nb


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


def top(root, lessons, active=None):
    items = []
    for l in lessons:
        cls = ' class="active"' if l['stem'] == active else ''
        items.append(f'<li{cls}><a href="{root}{l["stem"]}.html"><span class="num">{l["num"]}</span> '
                     f'{html.escape(l["title"])}</a></li>')
    api_cls = ' class="active"' if active == 'api' else ''
    return f"""<body data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<header class="site-header">
  <a class="brand" href="{root}index.html">{SITE_NAME}</a>
  <nav class="top-links"><a href="{root}index.html#lessons">Lessons</a><a href="{root}api/index.html">API</a></nav>
  <form class="search-form" action="{root}search.html" method="get" role="search">
    <input type="search" name="q" placeholder="Search the course" aria-label="Search the course">
  </form>
</header>
<div class="layout">
<nav class="sidebar" aria-label="Lessons">
  <ol class="lesson-list">{''.join(items)}</ol>
  <p class="api-link"><a{api_cls} href="{root}api/index.html">API reference</a></p>
</nav>
<main class="content">"""


BOTTOM = """</main>
</div>
<footer class="site-footer">collab_lessons · built from the committed notebooks · MovieLens-100K © GroupLens Research</footer>
</body>
</html>"""


def lesson_links(l, root=''):
    return (f'<div class="lesson-links"><a class="btn" href="{root}slides/{l["stem"]}.slides.html">Slides</a>'
            f'<a class="btn" href="{root}student/{l["stem"]}.ipynb" download>Student notebook</a>'
            f'<a class="btn" href="{root}present/{l["stem"]}.ipynb" download title="The lesson with slide breaks, '
            f'to present live in JupyterLab with RISE">Present with RISE</a>'
            + (f'<a class="btn" href="{root}api/{l["module"]}.html">API: {l["module"]}</a>' if l['module'] else '')
            + '</div>')


def prev_next(lessons, i, root=''):
    prev = (f'<a class="prev" href="{root}{lessons[i-1]["stem"]}.html">← {html.escape(lessons[i-1]["title"])}</a>'
            if i > 0 else '<span></span>')
    nxt = (f'<a class="next" href="{root}{lessons[i+1]["stem"]}.html">{html.escape(lessons[i+1]["title"])} →</a>'
           if i+1 < len(lessons) else '<span></span>')
    return f'<nav class="prev-next">{prev}{nxt}</nav>'


# ---------------------------------------------------------------------------------------------------------------
# lessons

def render_lesson(exporter, lessons, i) -> str:
    l = lessons[i]
    nb = doc_notebook(l['nb'])
    resources = {'metadata': {'name': l['stem']},
                 'page': {'head': head(f'{l["title"]} · {SITE_NAME}', ''),
                          'top': top('', lessons, l['stem']) + lesson_links(l),
                          'bottom': prev_next(lessons, i) + BOTTOM}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


# ---------------------------------------------------------------------------------------------------------------
# slides

SLIDE_PX = 690            # usable height of a 1280x800 slide, in CSS pixels (slides.css sets the sizes below)
MAX_OUT_LINES = 12        # longer text outputs are trimmed to this many lines
MAX_TABLE_ROWS = 8        # longer HTML tables are trimmed to this many rows
PROSE_CHARS, PROSE_PX, CODE_PX, OUT_PX, CODE_CHARS = 100, 31, 23, 20, 105


def _wrap_lines(text, width=CODE_CHARS):
    return sum(max(1, -(-len(l)//width)) for l in text.splitlines()) if text else 0


def _trim_text(text, n=MAX_OUT_LINES):
    lines = text.splitlines()
    if len(lines) <= n: return text
    return '\n'.join(lines[:n-1] + [f'… ({len(lines)-n+1} more lines, see the lesson page)'])


def _trim_html(h, n=MAX_TABLE_ROWS):
    if h.count('<tr') <= n + 1: return h
    soup = BeautifulSoup(h, 'html.parser')
    changed = False
    for body in soup.find_all('tbody'):
        rows = body.find_all('tr', recursive=False)
        if len(rows) > n:
            for r in rows[n-1:]: r.decompose()
            ncol = max(len(rows[0].find_all(['td', 'th'])), 1)
            tr = soup.new_tag('tr'); td = soup.new_tag('td', colspan=str(ncol)); td.string = f'… {len(rows)-n+1} more rows'
            tr.append(td); body.append(tr); changed = True
    for p in soup.find_all('p'):                       # pandas' "N rows × M columns" footer
        if re.match(r'\s*\d+ rows × \d+ columns', p.get_text()): p.decompose(); changed = True
    return str(soup) if changed else h


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
    return px + 10


def _out_px(o):
    data = o.get('data', {})
    if o.output_type == 'stream': return OUT_PX * min(_wrap_lines(o.text), MAX_OUT_LINES) + 8
    if 'image/png' in data or 'image/svg+xml' in data or 'image/jpeg' in data: return 390
    if 'text/html' in data:
        rows = len(re.findall(r'<tr', ''.join(data['text/html'])))
        return 27 * min(rows, MAX_TABLE_ROWS + 1) + 80 if rows else 60
    if 'text/markdown' in data: return _md_px(''.join(data['text/markdown']))
    if 'text/plain' in data: return OUT_PX * min(_wrap_lines(''.join(data['text/plain'])), MAX_OUT_LINES) + 8
    if o.output_type == 'error': return 330
    return 30


def _code_px(cell):
    return 0 if 'remove_input' in cell.metadata.get('tags', []) else min(CODE_PX * _wrap_lines(cell.source), 430) + 14


def _split_markdown(src):
    "A markdown cell as chunks a slide can break between: at each heading, each numbered item, and at blank lines outside fences and $$ blocks"
    chunks, cur, fence, math = [], [], False, False
    for line in src.splitlines():
        s = line.strip()
        if not fence and not math and re.match(r'#+\s|\d+\.\s', line) and cur: chunks.append(cur); cur = []
        if s.startswith('```'): fence = not fence
        if s.startswith('$$') and not (len(s) > 2 and s.endswith('$$') and s != '$$'): math = not math
        if not s and not fence and not math and cur: chunks.append(cur); cur = []; continue
        cur.append(line)
    if cur: chunks.append(cur)
    return ['\n'.join(c) for c in chunks if any(l.strip() for l in c)]


def slide_notebook(nb):
    """A copy of `nb` with reveal.js slide metadata: a slide at each `#`/`##` heading, a sub-slide at each deeper heading
    and whenever the next piece would overflow the current slide (headed "… (continued)"); long outputs trimmed.
    Markdown cells are split at headings and paragraphs first, so a slide can break between them."""
    nb = doc_notebook(nb)
    pieces = []
    for cell in nb.cells:
        for o in cell.get('outputs', []):
            if o.output_type == 'stream': o.text = _trim_text(o.text)
            if o.output_type == 'error': o.traceback = o.traceback[-3:]
            data = o.get('data', {})
            if 'text/plain' in data and len(data) == 1: data['text/plain'] = _trim_text(''.join(data['text/plain']))
            if 'text/html' in data: data['text/html'] = _trim_html(''.join(data['text/html']))
        if cell.cell_type == 'markdown':
            for n, chunk in enumerate(_split_markdown(cell.source) or ['']):
                c = copy.deepcopy(cell); c.source = chunk; c['id'] = f"{cell.get('id', 'md')}-{n}"   # ids stay unique
                pieces.append(c)
        elif cell.get('outputs') and 'remove_input' not in cell.metadata.get('tags', []) and \
                _code_px(cell) + sum(_out_px(o) for o in cell.outputs) > SLIDE_PX - 40:
            outs = copy.deepcopy(cell); outs['id'] = f"{cell.get('id', 'code')}-out"   # a tall cell: its outputs on the next sub-slide
            outs.metadata['tags'] = outs.metadata.get('tags', []) + ['remove_input']
            cell.outputs = []
            pieces += [cell, outs]
        else: pieces.append(cell)
    used, heading, cells = 0, '', []
    for k, cell in enumerate(pieces):
        if cell.cell_type == 'markdown':
            m = re.match(r'(#+)\s+(.*)', cell.source.lstrip())
            h = _md_px(cell.source)
            kind = ('slide' if len(m.group(1)) <= 2 else 'subslide') if m else '-'
            if m: heading = m.group(2).strip()
        else:
            h = _code_px(cell) + sum(_out_px(o) for o in cell.get('outputs', []))
            kind = '-'
        if k == 0: kind = 'slide'
        if kind == '-' and used and used + h > SLIDE_PX:
            if heading:
                cont = nbformat.v4.new_markdown_cell(f'<p class="continued">{html.escape(heading)} (continued)</p>')
                cont.metadata['slideshow'] = {'slide_type': 'subslide'}
                cells.append(cont); used = 30
            else: kind = 'subslide'
        used = h if kind in ('slide', 'subslide') else used + h
        cell.metadata['slideshow'] = {'slide_type': kind}
        cells.append(cell)
    nb.cells = cells
    return nb


def present_notebook(nb):
    """The lesson for presenting live with RISE in JupyterLab: every cell as committed (so it runs top to bottom), with the
    deck's slide breaks as `slideshow` metadata; the cells the docs leave out (`#| hide`, `#| default_exp`) are 'skip'."""
    tagged = copy.deepcopy(nb)
    for i, c in enumerate(tagged.cells): c.metadata['_orig_idx'] = i
    kinds, pending = {}, None
    for c in slide_notebook(tagged).cells:
        i = c.metadata.get('_orig_idx')
        if i is None: pending = 'subslide'; continue                     # a "(continued)" header: break before what follows
        if i in kinds: continue
        t = c.metadata['slideshow']['slide_type']
        kinds[i], pending = ('subslide' if pending and t == '-' else t), None
    out = copy.deepcopy(nb)
    for i, c in enumerate(out.cells): c.metadata['slideshow'] = {'slide_type': kinds.get(i, 'skip')}
    out.metadata['rise'] = {'scroll': True, 'transition': 'none', 'theme': 'white', 'start_slideshow_at': 'beginning',
                            'slideNumber': 'c/t'}
    return out


def render_slides(exporter, l) -> str:
    nb = slide_notebook(l['nb'])
    resources = {'metadata': {'name': l['stem']},
                 'page': {'title': l['title'], 'mathjax': MATHJAX.replace('ROOT/', '../'), 'lesson': f'../{l["stem"]}.html'}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


# ---------------------------------------------------------------------------------------------------------------
# API reference

def _src_url(module, line):
    "The module's source on GitHub (from pyproject's [tool.nbdev] user, repo, branch)"
    try:
        import tomllib
        cfg = tomllib.loads((ROOT/'pyproject.toml').read_text())['tool']['nbdev']
        return f"https://github.com/{cfg['user']}/{cfg['repo']}/blob/{cfg.get('branch', 'main')}/{cfg.get('lib_path', 'collab_lessons')}/{module}.py#L{line}"
    except Exception: return None


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


def _item_md(module, name, node, lines, level=3, lesson_ids=(), lesson=None):
    doc = ast.get_docstring(node) or ''
    url = _src_url(module, node.lineno)
    links = []
    if lesson and name in lesson_ids:
        links.append(f'<a href="../{lesson["stem"]}.html#{html.escape(name)}">in the lesson</a>')
    if url: links.append(f'<a href="{html.escape(url)}" target="_blank" rel="noopener">source</a>')
    return (f'<span class="api-links">{" · ".join(links)}</span>' + f'\n\n{"#"*level} {name}\n\n```python\n{_header(node, lines)}\n```\n\n'
            + (f'{doc}\n' if doc else ''))


def _slug(name): return re.sub(r'[^\w.-]', '-', name)


def api_pages(lessons, lesson_ids=None) -> dict[str, dict]:
    """`{module: page parts}` for every exported module, in lesson order, read from the exported source with `ast`
    (signatures as written, with their comments, and docstrings), so the build needs neither torch nor the package."""
    lesson_ids = lesson_ids or {}
    pages = {}
    for l in lessons:
        if not l['module']: continue
        module = l['module']
        path = ROOT/'collab_lessons'/f'{module}.py'
        if not path.exists(): continue
        src = path.read_text(); lines = src.splitlines()
        tree = ast.parse(src)
        names, defs, methods = [], {}, {}
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for e in (t.elts if isinstance(t, ast.Tuple) else [t]):
                        if isinstance(e, ast.Name):
                            if e.id == '__all__' and isinstance(node.value, (ast.List, ast.Tuple)):
                                names = [c.value for c in node.value.elts if isinstance(c, ast.Constant)]
                            else: defs.setdefault(e.id, node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                cls = _patched_class(node) if not isinstance(node, ast.ClassDef) else None
                if cls: methods.setdefault(cls, []).append(node)
                else: defs[node.name] = node
        ids = lesson_ids.get(l['stem'], set())
        parts, toc = [], []
        for name in names:
            node = defs.get(name)
            toc.append(f'<li><a href="#{_slug(name)}"><code>{html.escape(name)}</code></a></li>')
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                parts.append(f'<section class="api-item" id="{_slug(name)}"><hr>'
                             + markdown2html_mistune(_item_md(module, name, node, lines, 3, ids, l)))
                if isinstance(node, ast.ClassDef):
                    ms = [m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
                    for m in ms + methods.get(name, []):
                        if (m.name.startswith('_') and m.name != '__init__') or not ast.get_docstring(m) and m.name != '__init__': continue
                        if m.name == '__init__' and not ast.get_docstring(m): continue
                        qual = f'{name}.{m.name}'
                        parts.append(f'<div class="api-method" id="{_slug(qual)}">'
                                     + markdown2html_mistune(_item_md(module, qual, m, lines, 4, ids, l)) + '</div>')
                parts.append('</section>')
            elif node is not None:
                code = ast.get_source_segment(src, node) or name
                if len(code) > 600: code = code[:600] + ' …'
                parts.append(f'<section class="api-item" id="{_slug(name)}"><hr><h3>{html.escape(name)}</h3>'
                             + markdown2html_mistune(f'```python\n{code}\n```') + '</section>')
            else:
                parts.append(f'<section class="api-item" id="{_slug(name)}"><hr><h3>{html.escape(name)}</h3>'
                             f'<p>(imported into <code>{module}</code>)</p></section>')
        pages[module] = dict(lesson=l, doc=(ast.get_docstring(tree) or '').strip(), names=names,
                             toc=''.join(toc), body=''.join(parts))
    return pages


def render_api(lessons, pages, module) -> str:
    p, l = pages[module], pages[module]['lesson']
    body = (f'<h1 id="module">collab_lessons.{module}</h1>'
            f'<p class="summary">{markdown2html_mistune(p["doc"])}</p>'
            f'<p>Built in lesson <a href="../{l["stem"]}.html">{l["num"]} · {html.escape(l["title"])}</a>. '
            f'<code>from collab_lessons.{module} import …</code></p>'
            + (f'<nav class="api-toc"><ul>{p["toc"]}</ul></nav>' if p['toc'] else '<p>No public names.</p>')
            + p['body'])
    return head(f'collab_lessons.{module} · API · {SITE_NAME}', '../') + top('../', lessons, 'api') + \
        f'<article class="api-page">{body}</article>' + BOTTOM


def render_api_index(lessons, pages) -> str:
    rows = ''.join(f'<tr><td><a href="{m}.html"><code>collab_lessons.{m}</code></a></td>'
                   f'<td>{markdown2html_mistune(p["doc"])}</td><td>{len(p["names"])}</td></tr>' for m, p in pages.items())
    body = ('<h1 id="api-reference">API reference</h1><p>One page per module of the <code>collab_lessons</code> package, '
            'generated from the signatures and docstrings of the names each module exports (its <code>__all__</code>), '
            'in lesson order. Each module is written in the lesson of the same name.</p>'
            f'<table class="map"><thead><tr><th>module</th><th>what it holds</th><th>names</th></tr></thead><tbody>{rows}</tbody></table>')
    return head(f'API reference · {SITE_NAME}', '../') + top('../', lessons, 'api') + f'<article>{body}</article>' + BOTTOM


# ---------------------------------------------------------------------------------------------------------------
# home page, from README.md

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
    "`{stem: what it teaches}` from README's lesson table"
    out = {}
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) >= 3 and re.fullmatch(r'`?\d\d_\w+`?', cells[0]): out[cells[0].strip('`')] = cells[2]
    return out


def render_home(lessons) -> str:
    readme = (ROOT/'README.md').read_text() if (ROOT/'README.md').exists() else ''
    sections = readme_sections(readme)
    teaches = {}
    for h, md in sections:
        if h.lower().startswith('lesson'): teaches = readme_lesson_table(md)
    rows = []
    for l in lessons:
        what = teaches.get(l['stem']) or l['summary']
        rows.append(f'<tr><td class="num">{l["num"]}</td><td><a href="{l["stem"]}.html">{html.escape(l["title"])}</a></td>'
                    f'<td>{markdown2html_mistune(what)}</td>'
                    f'<td>' + (f'<a href="api/{l["module"]}.html"><code>{l["module"]}</code></a>' if l['module'] else '') + '</td>'
                    f'<td><a href="slides/{l["stem"]}.slides.html">slides</a></td>'
                    f'<td><a href="student/{l["stem"]}.ipynb" download>notebook</a></td></tr>')
    table = ('<table class="map"><thead><tr><th>#</th><th>lesson</th><th>what it teaches</th><th>module</th>'
             f'<th>slides</th><th>student</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
    intro = sections[0][1] if sections else ''
    body = [f'<h1 id="collab-lessons">{SITE_NAME}</h1>', markdown2html_mistune(intro),
            '<h2 id="how-to-use">How to use this site</h2>', markdown2html_mistune(
                '- **Read** a lesson: each page is the notebook as committed, with every output it computed. '
                'Exercise solutions are folded; try first.\n'
                '- **Work** a lesson: download its *student notebook* (solutions replaced by stubs, checks kept) and run it '
                'in JupyterLab next to a clone of the repository.\n'
                '- **Present** a lesson: open its *slides* (arrow keys; `s` opens the speaker view), or present the '
                'notebook itself live in JupyterLab with RISE.\n'
                '- **Use the library**: the *API* pages document every function and class the lessons export.'),
            '<h2 id="lessons">Lessons</h2>', table]
    for h, md in sections[1:]:
        if h.lower().startswith('lesson') or not md.strip(): continue
        body.append(f'<h2 id="{_slug(h.lower())}">{html.escape(h)}</h2>' + markdown2html_mistune(md))
    return head(f'{SITE_NAME}: collaborative filtering, the fast.ai way', '') + top('', lessons, None) + \
        '<article class="home">' + ''.join(body) + '</article>' + BOTTOM


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
    "One search entry per section (each h1-h3 with an id) of a built page's main content"
    main = page_html.split('<main', 1)[-1].split('</main>', 1)[0]
    main = re.sub(r'<nav class="prev-next">.*?</nav>|<div class="lesson-links">.*?</div>', ' ', main, flags=re.S)
    cells = re.split(r'(?=<div id="cell-id=)', main)            # exercise solutions stay out of the index
    main = ''.join(c for c in cells if 'celltag_solution' not in c[:400])
    parts = re.split(r'(<h[1-3][^>]*\sid="[^"]+"[^>]*>.*?</h[1-3]>)', main, flags=re.S)
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

def build(out: Path = ROOT/'_site', cache: Path = ROOT/'_site_cache', quiet=False, nbs: Path = ROOT/'nbs') -> dict:
    """Build the site from the lesson notebooks in `nbs` into `out` (through `out`.tmp, removed if the build fails).
    A notebook that cannot be read stops the build (SystemExit naming the file and the cell) before anything is written."""
    t0 = time.time()
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    try: lessons = [lesson_info(p) for p in notebooks(nbs)]
    except NotebookError as e: sys.exit(f'build_site: {e}')
    if not lessons: sys.exit(f'build_site: no lesson notebooks (NN_topic.ipynb) in {_shown(nbs)}')
    mods = npm_vendor(cache)
    tmp = out.with_name(out.name + '.tmp')
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        pages, index = _write_site(tmp, lessons, mods, nbs, say)
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    secs = time.time() - t0
    say(f'build_site: {len(lessons)} lessons, {len(pages)} API pages, {len(index)} search entries -> {out} in {secs:.1f}s')
    return dict(lessons=[l['stem'] for l in lessons], modules=list(pages), seconds=secs)


def _write_site(tmp: Path, lessons, mods: Path, nbs: Path, say) -> tuple[dict, list]:
    "Every page, deck, notebook and asset of the site into the new folder `tmp`: `(API pages, search index)`"
    (tmp/'slides').mkdir(parents=True); (tmp/'student').mkdir(); (tmp/'api').mkdir(); (tmp/'present').mkdir()
    write_assets(tmp, mods)
    if (nbs/'images').is_dir(): shutil.copytree(nbs/'images', tmp/'images')
    for data in sorted(nbs.glob('*/data')) + sorted(nbs.glob('data')):     # files lessons read beside them: the runnable copies need them too
        for dest in ("student", "present"): shutil.copytree(data, tmp/dest/"data", dirs_exist_ok=True)

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
            page = render_lesson(html_exp, lessons, i)
            (tmp/f'{l["stem"]}.html').write_text(page)
            lesson_ids[l['stem']] = set(re.findall(r'<h[1-6][^>]*\sid="([^"]+)"', page))
            index += search_entries(page, f'{l["stem"]}.html', f'{l["num"]} · {l["title"]}')
            (tmp/'slides'/f'{l["stem"]}.slides.html').write_text(render_slides(slide_exp, l))
            nbformat.write(student_notebook(l['nb']), tmp/'student'/f'{l["stem"]}.ipynb')
            nbformat.write(present_notebook(l['nb']), tmp/'present'/f'{l["stem"]}.ipynb')
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

    home = render_home(lessons)
    (tmp/'index.html').write_text(home)
    index = search_entries(home, 'index.html', 'Home') + index
    (tmp/'search.html').write_text(render_search(lessons))
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
    ap.add_argument('--out', default=str(ROOT/'_site'), help='output folder (default: _site)')
    ap.add_argument('--cache', default=str(ROOT/'_site_cache'), help='where npm packages are cached (default: _site_cache)')
    ap.add_argument('--nbs', default=str(ROOT/'nbs'), help='folder of the lesson notebooks (default: nbs)')
    a = ap.parse_args()
    build(Path(a.out), Path(a.cache), nbs=Path(a.nbs))
