"""The course website: `scripts/build_site.py` builds it (once per test session, into a temporary folder), and headless
Chromium (Debian's `/usr/bin/chromium`, driven by Playwright for Python) opens the home and search pages: no request
fails or leaves the local server, every image loads, no console error. Also: nbdev's directives never show, every asset
is local. Every lesson and API page gets the same checks (and math renders) in `test_site_pages.py`, in the same visit as
its desktop and phone layout checks; the slide decks are tested in `test_slides.py`, the student notebooks and what is
published in `test_student_edition.py` (all use this file's site and browser)."""
import fcntl, functools, http.server, json, os, re, shutil, sys, threading, time
from pathlib import Path
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'scripts'))
import build_site                                                      # noqa: E402

NOTEBOOKS = build_site.notebooks()
STEMS = [p.stem for p in NOTEBOOKS]
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
IN_CI = os.environ.get('CI', '').lower() == 'true'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-quic', '--no-first-run', '--disable-sync', '--disable-dev-shm-usage']


@pytest.fixture(scope='session')
def site(tmp_path_factory):
    "The built site, shared by the pytest-xdist workers: the first builds it under a lock, the others reuse it"
    shared = tmp_path_factory.getbasetemp().parent if os.environ.get('PYTEST_XDIST_WORKER') else tmp_path_factory.getbasetemp()
    out, done, nbs = shared/'site', shared/'site.json', shared/'nbs'
    with open(shared/'site.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            t = time.time()
            shutil.rmtree(nbs, ignore_errors=True); nbs.mkdir()
            for p in build_site.notebooks(): shutil.copy(p, nbs/p.name)    # the notebooks as built (others may edit them)
            info = build_site.build(out, ROOT/'_site_cache', quiet=True, nbs=nbs)
            info['wall'] = time.time() - t
            done.write_text(json.dumps(info))
        fcntl.flock(lock, fcntl.LOCK_UN)
    return out, json.loads(done.read_text())


def _nb(site, stem):
    "The lesson notebook as it was when the site was built"
    p = site[0].parent/'nbs'/f'{stem}.ipynb'
    if not p.exists(): pytest.skip(f'{stem} appeared after the site was built')
    return p


def test_site_builds(site):
    out, info = site
    print(f"site built in {info['wall']:.1f}s: {len(info['lessons'])} lessons, {len(info['modules'])} API pages")
    stems = [p.stem for p in build_site.notebooks(out.parent/'nbs')]
    assert info['lessons'] == stems and stems
    for stem in stems:
        assert (out/f'{stem}.html').exists()
        assert (out/'slides'/f'{stem}.slides.html').exists()
        assert (out/'student'/f'{stem}.ipynb').exists()
    for page in ('index.html', 'search.html', 'api/index.html', 'assets/search_index.js', 'assets/mathjax/tex-svg-full.js',
                 'assets/reveal/reveal.js'):
        assert (out/page).exists(), page
    modules = [build_site.lesson_info(p)['module'] for p in build_site.notebooks(out.parent/'nbs')]
    for m in filter(None, modules): assert (out/'api'/f'{m}.html').exists(), m
    home = (out/'index.html').read_text()
    for stem in stems: assert f'href="{stem}.html"' in home and f'slides/{stem}.slides.html' in home
    assert info['wall'] < 240, f"the build took {info['wall']:.0f}s; it should take well under a minute"


_EXTERNAL = re.compile(r'''(?:src|href)\s*=\s*["']?(?:https?:)?//|@import\s+url\(\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//''', re.I)


def test_every_asset_local(site):
    "No page, style sheet or script of ours refers to another host for anything it loads (links to read are fine)"
    out, _ = site
    bad = []
    for f in out.rglob('*'):
        if f.suffix not in ('.html', '.css') or not f.is_file(): continue
        text = f.read_text(errors='replace')
        for m in _EXTERNAL.finditer(text):
            before = text[max(0, m.start()-200):m.start()]
            if m.group(0).lower().startswith('href') and re.search(r'<a\b[^>]*$', before): continue   # a link, not a load
            bad.append(f'{f.relative_to(out)}: {text[m.start():m.start()+80]!r}')
    assert not bad, '\n'.join(bad[:20])
    for f in (out/'assets').rglob('*.css'):
        assert '@font-face' not in f.read_text(), f'{f.name} declares a web font'


def test_nbdev_directives_honoured(site):
    "As nbdev's docs: no `#| hide` / `#| default_exp` cell, no directive line in shown code, show_doc rendered, not shown"
    out, _ = site
    for p in build_site.notebooks(out.parent/'nbs'):
        stem = p.stem
        page = (out/f'{stem}.html').read_text()
        code_comments = re.findall(r'<span class="c1?">(#[^<]*)</span>', page)      # comments in highlighted code
        shown = [c for c in code_comments if re.match(r'#\|\s*[\w-]+|#\s*\|\s*(export\w?|hide|default_exp|slow|solution|notest)\b', c)]
        assert not shown, f'{stem}.html shows nbdev directives in its code: {shown[:5]}'
        assert '{target=' not in page, f'{stem}.html shows show_doc attribute syntax literally'
        assert not re.search(r'<span class="n">show_doc</span>', page), f'{stem}.html shows a show_doc(...) input cell'
        nb = nbformat.read(p, as_version=4)
        hidden = [build_site.split_directives(c.source)[1] for c in nb.cells if c.cell_type == 'code'
                  and build_site.split_directives(c.source)[0].keys() & {'hide', 'default_exp'}]
        text = build_site._text(page)
        for h in hidden:
            first = next((l.strip() for l in h.splitlines() if len(l.strip()) > 25 and l.strip() not in
                          '\n'.join(c.source for c in nb.cells if c.cell_type == 'markdown' or
                                     not build_site.split_directives(c.source)[0].keys() & {'hide', 'default_exp'})), None)
            if first: assert build_site._text(first) not in text, f'{stem}.html shows a #| hide cell: {first!r}'


# ---------------------------------------------------------------------------------------------------------------
# in a real browser

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass


@pytest.fixture(scope='module')
def browser_site(site):
    "A local HTTP server on the built site and a headless Chromium (Debian's) driven by Playwright"
    if not Path(CHROMIUM).exists() and not IN_CI:
        pytest.skip(f'{CHROMIUM} is not installed (apt-get install chromium); CI installs it and never skips')
    try: from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI: raise
        pytest.skip('playwright is not installed (pip install -e ".[dev]")')
    out, _ = site
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(out)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f'http://127.0.0.1:{srv.server_address[1]}'
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try: yield b, base, out
        finally:
            b.close(); srv.shutdown(); srv.server_close()


def _open(browser, base, path, viewport=(1280, 900)):
    "Open `path`, wait until it and MathJax are done; return the page and what went wrong (console errors, requests)"
    page = browser.new_page(viewport={'width': viewport[0], 'height': viewport[1]})
    problems = []
    def route(r):
        url = r.request.url
        if url.startswith(base + '/') or url.startswith('data:'): r.continue_()
        else: problems.append(f'request to another host: {url}'); r.abort()
    page.route('**/*', route)
    page.on('console', lambda m: problems.append(f'console {m.type}: {m.text}') if m.type == 'error' else None)
    page.on('pageerror', lambda e: problems.append(f'page error: {e}'))
    page.on('requestfailed', lambda r: problems.append(f'request failed: {r.url} ({r.failure})'))
    page.on('response', lambda r: problems.append(f'HTTP {r.status}: {r.url}') if r.status >= 400 else None)
    page.goto(f'{base}/{path}', wait_until='load', timeout=60_000)
    page.evaluate('async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }')
    page.wait_for_load_state('networkidle', timeout=30_000)
    return page, problems


def _has_math(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    return any(c.cell_type == 'markdown' and re.search(r'\$[^$\s][^$]*\$|\\\(', c.source) for c in nb.cells)


def _check_page(page, problems, has_math):
    imgs = page.evaluate('() => Array.from(document.images).map(i => [i.currentSrc.slice(0, 60), i.complete && i.naturalWidth > 0])')
    problems += [f'image not loaded: {src}' for src, ok in imgs if not ok]
    n_math = page.locator('mjx-container').count()
    if has_math:
        if not n_math: problems.append('the page has $…$ math but MathJax rendered none')
        raw = page.evaluate('() => Array.from(document.querySelectorAll(".jp-RenderedMarkdown, .jp-MarkdownOutput"))'
                            '.map(e => e.innerText).join("\\n")')
        if '$$' in raw or '\\(' in raw: problems.append('raw TeX left on the page: ' + raw[max(raw.find('$$'), 0):][:80])
    if page.locator('mjx-merror').count(): problems.append(f'{page.locator("mjx-merror").count()} MathJax error(s)')
    return n_math, len(imgs)


PAGES = ['index.html', 'search.html?q=weight+decay']    # the lesson and API pages: tests/test_site_pages.py opens them


@pytest.mark.parametrize('path', PAGES)
def test_page_in_browser(browser_site, path):
    b, base, out = browser_site
    page, problems = _open(b, base, path)
    try:
        n_math, n_img = _check_page(page, problems, False)
        if path.startswith('search'):
            n = page.locator('#search-results li').count()
            if not n: problems.append('the search for "weight decay" found nothing')
        print(f'{path}: {n_math} math, {n_img} images')
    finally: page.close()
    assert not problems, f'{path}:\n  ' + '\n  '.join(problems[:20])
