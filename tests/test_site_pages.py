"""The course website as a reader meets it: lesson pages, API pages, search and the home page, in headless Chromium at
1280 px (a desktop) and 390 px (a phone). Each lesson and API page is opened once, for both widths and for the checks
`tests/test_site.py` makes of every page (no failed or foreign request, no console error, math rendered, images loaded).
Source links point at the line that defines each name; code never scrolls sideways on a desktop; a phone never pans
sideways; long pages have an "On this page" map whose links land below the sticky header; the sidebar and the home page
show the three tracks with their reading times; ids are unique; a search for a name finds its API entry first. Uses the
site and the browser of `tests/test_site.py`."""
import html, re, sys, tomllib
from pathlib import Path
import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tests'))
sys.path.insert(0, str(ROOT/'scripts'))
import build_site, course_stats                                         # noqa: E402
from test_site import site, browser_site, _open, _check_page, _has_math, STEMS   # noqa: E402,F401  (fixtures)

CFG = tomllib.loads((ROOT/'pyproject.toml').read_text())['tool']['nbdev']
SOURCE = re.compile(rf"^https://github\.com/{CFG['user']}/{CFG['repo']}/blob/{CFG['branch']}/{CFG['lib_path']}/(\w+)\.py#L(\d+)$")
DESKTOP, PHONE = (1280, 900), (390, 844)


def _pages(out):
    "Every HTML page of the site but the slide decks (their own tests check them)"
    return sorted(p for p in out.rglob('*.html') if 'slides' not in p.parts)


def _soup(path): return BeautifulSoup(path.read_text(), 'html.parser')


# ---------------------------------------------------------------------------------------------------------------
# source links

def _defines(line, name) -> bool:
    "Whether a source line defines `name` (`def name`, `class name`, `name =`, `name: T =`, `a, name, b = ...`)"
    n = re.escape(name.split('.')[-1])
    return bool(re.match(rf'\s*(async\s+)?def\s+{n}\b|\s*class\s+{n}\b|\s*{n}\s*[:=]|\s*[\w\s,]*\b{n}\s*(,[\w\s,]*)?=', line))


def _link_name(a):
    """The name a source link documents: its table row's id (API constants), the heading beside it (API pages), else
    the heading that follows it (nbdev's show_doc blocks in the lessons)"""
    row, head = a.find_parent('tr'), a.find_parent(class_='api-head')
    if row is not None and row.get('id'): return row['id']
    h = head.find(['h2', 'h3', 'h4']) if head is not None else a.find_next(['h2', 'h3', 'h4'])
    return h.get_text().replace('¶', '').strip()


def _doc_block_problems(out, stem, links) -> list[str]:
    "Each API block the lesson shows (nbdev's show_doc) has its source link; a name its own module defines links there"
    nb = build_site.doc_notebook(build_site.read_notebook(out.parent/'nbs'/f'{stem}.ipynb'))
    blocks = sum(1 for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', [])
                 if str(o.get('data', {}).get('text/markdown', '')).lstrip().startswith('---'))
    if len(links) < blocks: return [f'{stem}: {blocks} API blocks but {len(links)} source links']
    module = build_site.lesson_info(out.parent/'nbs'/f'{stem}.ipynb')['module']
    src = (ROOT/CFG['lib_path']/f'{module}.py').read_text() if module else ''
    bad = []
    for a in links:                                  # a name the lesson's own module defines links to that module
        name = _link_name(a).split('.')[0]
        if re.search(rf'^(def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*=', src, re.M):
            if f'/{module}.py#L' not in a['href']: bad.append(f'{stem}: {name} -> {a["href"]}')
    return bad


def test_source_links_point_at_the_definition(site):
    """Every source link of every lesson and API page: the package's module on GitHub, at the line defining the name.
    Each API block a lesson shows (nbdev's show_doc) has its source link, and a name the lesson's own module defines
    links to that module. (One test, so that each page is parsed once.)"""
    out, _ = site
    lines = {p.stem: p.read_text().splitlines() for p in (ROOT/CFG['lib_path']).glob('*.py')}
    lessons = {p.stem for p in build_site.notebooks(out.parent/'nbs')}
    bad, blocks_bad, n, n_lessons = [], [], 0, 0
    for page in _pages(out):
        links = _soup(page).select('a.source-link')
        for a in links:
            n += 1
            name, m = _link_name(a), SOURCE.match(a.get('href', ''))
            if not m: bad.append(f'{page.name}: {name}: {a.get("href")!r}'); continue
            module, line = m.group(1), int(m.group(2))
            text = lines[module][line - 1] if module in lines and line <= len(lines[module]) else ''
            if not _defines(text, name): bad.append(f'{page.name}: {name} -> {module}.py:{line} {text.strip()[:60]!r}')
        if page.parent == out and page.stem in lessons:
            n_lessons += 1
            blocks_bad += _doc_block_problems(out, page.stem, links)
    assert n_lessons == len(lessons) > 0, f'{n_lessons} lesson pages checked for their API blocks, of {len(lessons)}'
    assert n > 300, f'only {n} source links'
    assert not bad, f'{len(bad)} of {n} source links are wrong:\n' + '\n'.join(bad[:20])
    assert not blocks_bad, '\n'.join(blocks_bad[:20])


# ---------------------------------------------------------------------------------------------------------------
# API pages, ids, search

def test_ids_unique_on_every_page(site):
    out, _ = site
    bad = []
    for page in sorted(out.rglob('*.html')):
        ids = re.findall(r'\sid="([^"]*)"', page.read_text())
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup: bad.append(f'{page.relative_to(out)}: {dup[:6]}')
    assert not bad, '\n'.join(bad)


def test_api_classes_show_their_constructor(site):
    "A class's entry reads as a call with its `__init__`'s arguments, not as `class X(Module):`"
    out, _ = site
    code = _soup(out/'api'/'models.html').find(id='DotProductBias').find_next('pre').get_text()
    assert re.match(r'class DotProductBias\(n_users, n_movies, n_factors=\d+, y_range=', code), code
    bad = []
    for page in sorted((out/'api').glob('*.html')):
        for pre in _soup(page).select('.api-item > div > pre, .api-item .highlight pre'):
            first = pre.get_text().split('\n', 1)[0]
            if re.fullmatch(r'class \w+\((Module|nn\.Module)\):', first): bad.append(f'{page.name}: {first}')
    assert not bad, bad


def test_api_constants_in_one_table(site):
    out, _ = site
    soup = _soup(out/'api'/'models.html')
    rows = {tr['id']: tr for tr in soup.select('table.api-constants tr[id]')}
    assert {'BS', 'LR', 'EPOCHS', 'Y_RANGE'} <= rows.keys(), sorted(rows)
    assert rows['LR'].find_all('td')[1].get_text() == '1e-2'
    assert not soup.select('h3#BS, h3#LR, h3#EPOCHS'), 'a one-line constant has a block of its own'
    assert soup.select_one('nav.api-toc a[href="#BS"]')


@pytest.mark.parametrize('query,first', [('DotProductBias', 'api/models.html#DotProductBias'),
                                         ('Recommender.fit', 'api/recommender.html#Recommender.fit'),
                                         ('sigmoid_range', 'api/models.html#sigmoid_range')])
def test_search_ranks_the_name_first(browser_site, query, first):
    b, base, out = browser_site
    page, problems = _open(b, base, f'search.html?q={query}')
    try:
        hrefs = page.eval_on_selector_all('#search-results li > a', 'as => as.map(a => a.getAttribute("href"))')
    finally: page.close()
    assert not problems, problems
    assert hrefs and hrefs[0] == first, hrefs[:5]


# ---------------------------------------------------------------------------------------------------------------
# tracks and reading times

def _minutes(site):
    "`{stem: (track, minutes)}` as scripts/course_stats.py measures them on the notebooks the site was built from"
    nbs = site[0].parent/'nbs'
    return {p.stem: (p.parent.name, course_stats.stats(nbs/p.name)['minutes']) for p in course_stats.lessons()
            if (nbs/p.name).exists()}


def test_sidebar_and_home_show_the_tracks(site):
    out, _ = site
    mins = _minutes(site)
    for page in (out/'index.html', out/f'{STEMS[0]}.html', out/'api'/'models.html'):
        soup = _soup(page)
        tracks = soup.select('nav.sidebar .track')
        assert [t.select_one('.track-name').contents[0].strip().lower() for t in tracks] == list(course_stats.TRACKS)
        for t, name in zip(tracks, course_stats.TRACKS):
            total = sum(m for tr, m in mins.values() if tr == name)
            assert f'{round(total)} min' in t.select_one('.track-name .mins').get_text()
            for li in t.select('li'):
                stem = li.a['href'].split('/')[-1].removesuffix('.html')
                assert mins[stem][0] == name and li.select_one('.mins').get_text() == f'{round(mins[stem][1])} min', stem
    home = _soup(out/'index.html').select_one('article.home')
    for name in course_stats.TRACKS:
        total = sum(m for tr, m in mins.values() if tr == name)
        h = home.find('h3', id=name)
        assert h and f'{round(total)} minutes ({total / 60:.1f} hours)' in h.get_text(), (name, h)
        rows = h.find_next('table').select('tbody tr')
        assert [r.a['href'].removesuffix('.html') for r in rows] == [s for s, (tr, _) in mins.items() if tr == name]
        for r in rows:
            assert r.select_one('td.mins').get_text() == str(round(mins[r.a['href'].removesuffix('.html')][1]))


def test_home_page_is_for_students_and_instructors(site):
    out, _ = site
    text = (out/'index.html').read_text()
    for word in ('settings.ini', 'nbdev-export', 'localhost', '/work/', '.venv', 'Working on the lessons'):
        assert word not in text, f'the home page mentions {word!r}'
    soup = _soup(out/'index.html')
    for tr in soup.select('tr'):
        ths = tr.find_all('th')
        assert not ths or all(th.get_text().strip() for th in ths), f'a header row with an empty cell: {tr}'
    main = soup.select_one('article.home').get_text()
    for must in ('make lab', 'make present', 'speaker', 'full screen', 'RISE', 'Recommender.fit'):
        assert must in main, must
    assert soup.select_one('a[href="api/index.html"]') and soup.select_one('a[href="student/"]')
    assert soup.select_one('h2#lessons') and soup.select_one('header a[href="index.html#lessons"]')
    for stem in STEMS: assert soup.select_one(f'a[href="slides/{stem}.slides.html"]'), stem
    students = _soup(out/'student'/'index.html')            # what `student/` opens: every notebook to download
    assert [a['href'] for a in students.select('a[download]')] == [f'{s}.ipynb' for s in STEMS]


def test_workbook_copied_and_linked(site):
    "The Excel sheet lesson 01 writes is on the site, linked from that lesson and the home page, when the build had it"
    out, _ = site
    if not (out/'collab_filter.xlsx').exists():
        assert not (ROOT/'nbs'/'core'/'collab_filter.xlsx').exists(), 'the workbook exists but the site lacks it'
        pytest.skip('no collab_filter.xlsx: lesson 01 has not been run and it could not be written')
    assert (out/'collab_filter.xlsx').read_bytes()[:2] == b'PK'
    lesson = next(s for s in STEMS if s.startswith('01_'))
    for page in (out/f'{lesson}.html', out/'index.html'):
        assert _soup(page).select_one('a[href="collab_filter.xlsx"]'), page.name


# ---------------------------------------------------------------------------------------------------------------
# in the browser: desktop and phone

_WIDE_PRE = '''() => Array.from(document.querySelectorAll('pre, .jp-InputArea-editor'))
    .filter(p => p.getClientRects().length && p.scrollWidth > p.clientWidth + 1)
    .map(p => [p.scrollWidth, p.clientWidth, p.textContent.split('\\n')[0].slice(0, 60)])'''
_PANS = '() => [document.documentElement.scrollWidth, window.innerWidth]'
_MATH = '''() => Array.from(document.querySelectorAll('mjx-container[display="true"] svg')).map(s => s.getBoundingClientRect().width)'''
_LANDS = '''async (id) => {
    const h = document.getElementById(id), header = document.querySelector('.site-header');
    if (decodeURIComponent(location.hash.slice(1)) === id) location.hash = '';    // the same hash again would not move
    location.hash = id;
    await new Promise(r => setTimeout(r, 150));
    return [h.getBoundingClientRect().top, header.getBoundingClientRect().bottom];
}'''


def _lands_below_header(page, hid):
    top, bottom = page.evaluate(_LANDS, hid)
    assert bottom - 1 <= top <= bottom + 60, f'#{hid}: heading at {top:.0f}px, header bottom at {bottom:.0f}px'


@pytest.mark.parametrize('stem', STEMS)
def test_lesson_page_desktop_and_phone(browser_site, stem):
    """Each lesson page, in one visit. As it opens at 1280 px: no failed or foreign request, no console error, math
    rendered, every image loaded, links to its student notebook and its slides. At 1280 px: no code or output block
    scrolls sideways; the "On this page" map sits beside the page, lists the lesson's h2s and stays in view, and its
    links land below the header. At 390 px: the page never pans sideways, the lesson list and the map are folded,
    display math keeps its size."""
    b, base, out = browser_site
    nb = out.parent/'nbs'/f'{stem}.ipynb'
    if not nb.exists(): pytest.skip(f'{stem}: its notebook appeared after the site was built')
    page, problems = _open(b, base, f'{stem}.html', viewport=DESKTOP)
    try:
        n_math, n_img = _check_page(page, problems, _has_math(nb))
        if not page.locator(f'a[href="student/{stem}.ipynb"]').count(): problems.append('no link to the student notebook')
        if not page.locator(f'a[href="slides/{stem}.slides.html"]').count(): problems.append('no link to the slides')
        print(f'{stem}.html: {n_math} math, {n_img} images')

        wide = page.evaluate(_WIDE_PRE)
        assert not wide, f'{stem}: {len(wide)} code/output blocks scroll sideways at 1280 px: {wide[:5]}'
        toc = page.locator('details.page-toc')
        assert toc.count() == 1 and toc.evaluate('d => d.open'), 'no "On this page" map, or folded on a desktop'
        h2s = page.eval_on_selector_all('.jp-MarkdownCell h2[id]', 'hs => hs.map(h => h.id)')
        links = page.eval_on_selector_all('details.page-toc a', 'as => as.map(a => a.getAttribute("href").slice(1))')
        assert h2s and set(h2s) <= set(links), f'missing from the map: {set(h2s) - set(links)}'
        main, box = page.locator('.page-main').bounding_box(), toc.bounding_box()
        assert box['x'] >= main['x'] + main['width'], 'the map is not beside the page'
        page.evaluate('() => window.scrollTo(0, document.body.scrollHeight / 2)')
        box = toc.bounding_box()
        assert 0 <= box['y'] < DESKTOP[1], 'the map does not stay in view'
        target = links[len(links) // 2]
        page.locator(f'details.page-toc a[href="#{target}"]').click()
        page.wait_for_timeout(150)
        top = page.evaluate('id => document.getElementById(id).getBoundingClientRect().top', target)
        bottom = page.evaluate('() => document.querySelector(".site-header").getBoundingClientRect().bottom')
        assert bottom - 1 <= top <= bottom + 60, f'#{target} at {top:.0f}px, header bottom {bottom:.0f}px'
        math = page.evaluate(_MATH)

        page.set_viewport_size({'width': PHONE[0], 'height': PHONE[1]})
        page.wait_for_timeout(100)
        sw, vw = page.evaluate(_PANS)
        assert sw <= vw, f'{stem}: the page is {sw}px wide on a {vw}px phone'
        assert page.evaluate(_MATH) == pytest.approx(math, abs=0.5), 'display math shrinks on a phone'
        _lands_below_header(page, h2s[len(h2s) // 2])
    finally: page.close()
    assert not problems, f'{stem}.html:\n  ' + '\n  '.join(problems[:20])


@pytest.mark.parametrize('path', ['index.html', f'{STEMS[1]}.html', 'api/models.html', 'search.html?q=weight+decay'])
def test_phone(browser_site, path):
    "At 390 px from the start: no sideways pan, lesson list folded behind the header's button, search box in the header"
    b, base, out = browser_site
    page, problems = _open(b, base, path, viewport=PHONE)
    try:
        sw, vw = page.evaluate(_PANS)
        assert sw <= vw, f'{path}: {sw}px wide on a {vw}px phone'
        side = page.locator('nav.sidebar')
        assert not side.is_visible(), 'the lesson list is open on a phone'
        page.locator('.nav-toggle').click()
        assert side.is_visible() and page.locator('nav.sidebar .lesson-list a').count() == len(STEMS)
        assert page.locator('.nav-toggle').get_attribute('aria-expanded') == 'true'
        assert page.evaluate(_PANS)[0] <= vw
        box = page.locator('.search-form input').bounding_box()
        assert box['x'] + box['width'] <= vw and box['width'] >= 60, box
        if path.endswith(f'{STEMS[1]}.html'):
            toc = page.locator('details.page-toc')
            assert not toc.evaluate('d => d.open'), 'the map is unfolded on a phone'
            toc.locator('summary').click()
            first = toc.locator('a').first.get_attribute('href')[1:]
            toc.locator('a').first.click()
            page.wait_for_timeout(150)
            top = page.evaluate('id => document.getElementById(id).getBoundingClientRect().top', first)
            bottom = page.evaluate('() => document.querySelector(".site-header").getBoundingClientRect().bottom')
            assert bottom - 1 <= top <= bottom + 60, (top, bottom)
        for tbl in page.locator('table').all():        # a wide table scrolls inside its own box
            ok = tbl.evaluate('''t => { const r = t.getBoundingClientRect(); let e = t;
                while (e && e !== document.body) { if (e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX === 'auto')
                  return true; e = e.parentElement; } return r.right <= window.innerWidth + 1; }''')
            assert ok, 'a table runs off the phone screen'
    finally: page.close()
    assert not problems, problems


def test_anchor_in_address_lands_below_header(browser_site):
    "Opening a lesson at `#heading` (a link from elsewhere) shows the heading below the header, after math is typeset"
    b, base, out = browser_site
    stem = next(s for s in STEMS if s.startswith('04_')) if any(s.startswith('04_') for s in STEMS) else STEMS[0]
    ids = [html.unescape(i) for i in re.findall(r'<h2 id="([^"]+)"', (out/f'{stem}.html').read_text())]
    page, problems = _open(b, base, f'{stem}.html#{ids[len(ids) // 2]}')
    try:
        page.wait_for_timeout(300)
        top = page.evaluate('id => document.getElementById(id).getBoundingClientRect().top', ids[len(ids) // 2])
        bottom = page.evaluate('() => document.querySelector(".site-header").getBoundingClientRect().bottom')
        assert bottom - 1 <= top <= bottom + 60, (top, bottom)
    finally: page.close()
    assert not problems, problems


def test_api_pages_desktop_and_phone(browser_site):
    """Every API page, in one visit. As it opens at 1280 px: no failed or foreign request, no console error, every image
    loaded, no MathJax error. At 390 px: no sideways pan (long module names, signatures and tables wrap or scroll inside)"""
    b, base, out = browser_site
    bad = []
    for f in sorted((out/'api').glob('*.html')):
        page, problems = _open(b, base, f'api/{f.name}', viewport=DESKTOP)
        try:
            _check_page(page, problems, False)
            page.set_viewport_size({'width': PHONE[0], 'height': PHONE[1]})
            page.wait_for_timeout(100)
            sw, vw = page.evaluate(_PANS)
        finally: page.close()
        if sw > vw: problems.append(f'{sw}px wide on a {vw}px phone')
        bad += [f'api/{f.name}: {p}' for p in problems]
    assert not bad, '\n'.join(bad[:20])
