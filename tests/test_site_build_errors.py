"""`scripts/build_site.py` on a notebook it cannot read: one plain line naming the file and the cell, a non-zero exit, no
traceback, no `_site.tmp` left behind and the previous site untouched. Fast: no browser, no npm (the build stops before
it needs MathJax or reveal.js; the tests that get further use stand-in vendor files)."""
import json, os, runpy, subprocess, sys
from pathlib import Path
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'scripts'))
import build_site                                                      # noqa: E402


def _good_nb():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell('# A tiny lesson\n> One cell of code'),
                nbformat.v4.new_code_cell('print(1 + 1)', execution_count=1,
                                          outputs=[nbformat.v4.new_output('stream', name='stdout', text='2\n')])]
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    return nb


def _set(key, value):
    def f(cell): cell[key] = value
    return f


def _drop(key):
    def f(cell): del cell[key]
    return f


def _output_type(cell): cell['outputs'][0]['output_type'] = 'printout'


# (id, change to the code cell (cell 1) or to the file's text, what the message says, whether it names cell 1)
CASES = [
    ('no-source', _drop('source'), "code cell has no 'source'", True),
    ('no-outputs', _drop('outputs'), "code cell has no 'outputs'", True),
    ('unknown-cell-type', _set('cell_type', 'python'), "unknown cell_type 'python'", True),
    ('unknown-output-type', _output_type, "output 0: unknown output_type 'printout'", True),
    ('int-source', _set('source', 7), "'source' must be a string or list of strings, got int", True),
    ('bad-execution-count', _set('execution_count', 'one'), 'execution_count must be integer or null, got string', True),
    ('truncated-json', lambda text: text[:len(text) // 2], 'not valid JSON', False),
    ('empty-file', lambda text: '', 'the file is empty', False),
]


def _folders(tmp_path, case):
    "`tmp_path/nbs` with a good lesson and a malformed one, and a previous site in `tmp_path/site`: `(nbs, out)`"
    _, change, _, _ = case
    nbs, out = tmp_path/'nbs', tmp_path/'site'
    nbs.mkdir(); out.mkdir()
    (out/'index.html').write_text('the previous site')
    nbformat.write(_good_nb(), nbs/'00_good.ipynb')
    text = json.dumps(_good_nb(), indent=1)
    if case[0] in ('truncated-json', 'empty-file'): text = change(text)
    else:
        raw = json.loads(text)
        change(raw['cells'][1])
        text = json.dumps(raw, indent=1)
    (nbs/'01_bad.ipynb').write_text(text)
    return nbs, out


def _check_left(tmp_path, out):
    "Nothing but the two folders the test made, and the previous site as it was"
    assert sorted(p.name for p in tmp_path.iterdir()) == ['nbs', 'site'], 'the build left something behind'
    assert not out.with_name(out.name + '.tmp').exists()
    assert [p.name for p in out.iterdir()] == ['index.html'] and (out/'index.html').read_text() == 'the previous site'


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_malformed_notebook(tmp_path, monkeypatch, case):
    "`build()` stops with SystemExit naming the notebook and the cell, before it fetches vendor files or writes anything"
    nbs, out = _folders(tmp_path, case)
    def no_vendor(cache): raise AssertionError('the build went on to fetch vendor files')
    monkeypatch.setattr(build_site, 'npm_vendor', no_vendor)
    with pytest.raises(SystemExit) as e:
        build_site.build(out, tmp_path/'cache', quiet=True, nbs=nbs)
    msg = e.value.code
    assert isinstance(msg, str) and '\n' not in msg, msg
    _, _, says, in_cell = case
    where = '01_bad.ipynb, cell 1: ' if in_cell else '01_bad.ipynb: '
    assert msg.startswith('build_site: ') and where in msg and says in msg, msg
    _check_left(tmp_path, out)


def _command_line(tmp_path, nbs, out):
    return [str(ROOT/'scripts'/'build_site.py'), '--nbs', str(nbs), '--out', str(out), '--cache', str(tmp_path/'cache')]


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_malformed_notebook_command_line(tmp_path, monkeypatch, capfd, recwarn, case):
    """`python scripts/build_site.py --nbs DIR`, run in this process (as `__main__`, with no npm on the PATH): it stops
    with SystemExit and one line naming the notebook, and writes or warns nothing else on stderr. Python prints that
    line to stderr and exits with status 1 (`test_command_line_exit_status` runs the script for real, in a subprocess)"""
    nbs, out = _folders(tmp_path, case)
    monkeypatch.setenv('PATH', str(Path(sys.executable).parent))       # no npm: the build must stop before it
    monkeypatch.setattr(sys, 'argv', _command_line(tmp_path, nbs, out))
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(ROOT/'scripts'/'build_site.py'), run_name='__main__')
    msg = e.value.code
    _, _, says, in_cell = case
    where = '01_bad.ipynb, cell 1: ' if in_cell else '01_bad.ipynb: '
    assert isinstance(msg, str) and '\n' not in msg, msg                # a string: Python prints it and exits with 1
    assert msg.startswith('build_site: ') and where in msg and says in msg, msg
    assert capfd.readouterr().err == '', 'the command printed more than its one line on stderr'
    assert not [str(w.message) for w in recwarn], 'a warning would print more than one line'
    _check_left(tmp_path, out)


def test_command_line_exit_status(tmp_path):
    "The script run for real on one malformed notebook: exit status 1, one line on stderr naming the notebook, no traceback"
    case = CASES[0]
    nbs, out = _folders(tmp_path, case)
    env = {**os.environ, 'PATH': str(Path(sys.executable).parent)}     # no npm: the build must stop before it
    r = subprocess.run([sys.executable, *_command_line(tmp_path, nbs, out)], capture_output=True, text=True, env=env,
                       timeout=120)
    _, _, says, in_cell = case
    where = '01_bad.ipynb, cell 1: ' if in_cell else '01_bad.ipynb: '
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert 'Traceback' not in r.stderr and r.stderr.count('\n') == 1, r.stderr
    assert r.stderr.startswith('build_site: ') and where in r.stderr and says in r.stderr, r.stderr
    _check_left(tmp_path, out)


def test_read_notebook_matches_nbformat():
    "A good notebook reads exactly as `nbformat.read` reads it"
    for p in build_site.notebooks()[:3]:
        assert build_site.read_notebook(p) == nbformat.read(p, as_version=4)


def test_no_notebooks(tmp_path):
    (tmp_path/'nbs').mkdir()
    with pytest.raises(SystemExit, match='no lesson notebooks'):
        build_site.build(tmp_path/'site', tmp_path/'cache', quiet=True, nbs=tmp_path/'nbs')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['nbs']


@pytest.fixture
def fake_vendor(tmp_path, monkeypatch):
    "Stand-in MathJax and reveal.js files, so that a build of a tiny lesson runs without npm"
    mods = tmp_path/'vendor'
    for f in ('mathjax/es5/tex-svg-full.js', 'mathjax/LICENSE', 'reveal.js/dist/reveal.js', 'reveal.js/dist/reveal.css',
              'reveal.js/plugin/notes/notes.js', 'reveal.js/LICENSE', 'reveal.js/dist/theme/white.css'):
        (mods/f).parent.mkdir(parents=True, exist_ok=True)
        (mods/f).write_text('/* stand-in */\n')
    monkeypatch.setattr(build_site, 'npm_vendor', lambda cache: mods)
    return mods


def test_good_notebooks_build(tmp_path, fake_vendor):
    "The good notebook the tests above pair with a malformed one builds, and the build leaves no temporary folder"
    nbs, out = tmp_path/'nbs', tmp_path/'site'
    nbs.mkdir()
    nbformat.write(_good_nb(), nbs/'00_good.ipynb')
    info = build_site.build(out, tmp_path/'cache', quiet=True, nbs=nbs)
    assert info['lessons'] == ['00_good']
    assert (out/'00_good.html').exists() and (out/'slides'/'00_good.slides.html').exists()
    assert not out.with_name(out.name + '.tmp').exists()


def test_failure_while_writing_removes_temp(tmp_path, fake_vendor, monkeypatch):
    "An error halfway through the build: the temporary folder is removed, the previous site kept, the lesson named"
    nbs, out = tmp_path/'nbs', tmp_path/'site'
    nbs.mkdir(); out.mkdir()
    (out/'index.html').write_text('the previous site')
    nbformat.write(_good_nb(), nbs/'00_good.ipynb')
    def fail(exporter, lesson): raise RuntimeError('slides failed')
    monkeypatch.setattr(build_site, 'render_slides', fail)
    with pytest.raises(RuntimeError, match='slides failed') as e:
        build_site.build(out, tmp_path/'cache', quiet=True, nbs=nbs)
    assert any('00_good.ipynb' in n for n in getattr(e.value, '__notes__', [])), 'the error does not name the notebook'
    assert not out.with_name(out.name + '.tmp').exists()
    assert (out/'index.html').read_text() == 'the previous site'
