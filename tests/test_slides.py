"""The slide decks an instructor presents, measured in headless Chromium at 1280×800, slide by slide: nothing runs off a
slide or scrolls (no code box clipped, no lost characters), no slide is empty or only a heading, every section has
speaker notes (and `s` opens them, offline), a core lesson fits in under 35 slides. Also the decks and the RISE copies
(`present/`) show no exercise solution, no check-only cell, no `#| hide` cell and no nbdev directive."""
import re, sys
from pathlib import Path
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'scripts'))
sys.path.insert(0, str(ROOT/'tests'))
import build_site                                                                  # noqa: E402
from test_site import site, browser_site, _open, _check_page, _has_math, STEMS    # noqa: E402,F401  (shared fixtures)
from test_student_edition import _solution_lines                                  # noqa: E402

CORE = [p.stem for p in build_site.notebooks() if p.parent.name == 'core']
MAX_CORE_SLIDES = 35

# Every slide of the open deck, visited through reveal's API: what is wrong with it, as `[(h, v, problem)]`, and the
# number of slides and of sections (horizontal slides) without speaker notes.
_MEASURE = r'''() => {
    const H = Reveal.getConfig().height, bad = [], notes = {};
    const name = e => e.tagName.toLowerCase() + (e.className && typeof e.className == 'string' ? '.' + e.className.split(' ')[0] : '');
    for (const s of Reveal.getSlides()) {
        const ix = Reveal.getIndices(s), h = ix.h, v = ix.v || 0;
        Reveal.slide(h, v);
        const say = what => bad.push([h, v, what]);
        const sr = s.getBoundingClientRect();
        if (s.scrollHeight > H + 1) say(`content ${s.scrollHeight}px tall, the slide ${H}px`);
        const over = new Set();
        for (const e of s.querySelectorAll('*')) {
            if (e.closest('aside.notes')) continue;
            const r = e.getBoundingClientRect();
            if (r.width && (r.right > sr.right + 2 || r.left < sr.left - 2) && !over.has(e.parentElement)) {
                over.add(e); say(`${name(e)} runs ${Math.round(Math.max(r.right - sr.right, sr.left - r.left))}px off the slide`);
            } else if (r.width && (r.right > sr.right + 2 || r.left < sr.left - 2)) over.add(e);
            const st = getComputedStyle(e);
            if (e.tagName == 'PRE' || e.tagName == 'CODE' || /auto|scroll|hidden/.test(st.overflowX + st.overflowY)) {
                if (e.scrollWidth > e.clientWidth + 1 && st.display != 'inline')
                    say(`${name(e)} scrolls sideways (${e.scrollWidth} > ${e.clientWidth}px): ${e.innerText.slice(0, 60)}`);
                if (e.scrollHeight > e.clientHeight + 1 && st.display != 'inline')
                    say(`${name(e)} is cut or scrolls (${e.scrollHeight} > ${e.clientHeight}px): ${e.innerText.slice(0, 60)}`);
            }
        }
        const content = Array.from(s.querySelectorAll('pre, img, svg, table, li, p:not(.continued), blockquote, mjx-container, .jp-OutputArea-output'))
            .filter(e => !e.closest('aside.notes') && !e.closest('h1, h2, h3, h4, h5, h6'));
        if (!content.length) say(s.querySelector('h1, h2, h3, h4, h5, h6') ? 'only a heading' : 'empty');
        const n = Array.from(s.querySelectorAll('aside.notes')).map(a => a.textContent.trim()).join('');
        notes[h] = (notes[h] || 0) + n.length;
    }
    Reveal.slide(0, 0);
    return {bad, total: Reveal.getTotalSlides(), no_notes: Object.keys(notes).filter(h => !notes[h]).map(Number)};
}'''


def measure(page) -> dict:
    page.wait_for_function('() => window.Reveal && Reveal.isReady()', timeout=30_000)
    return page.evaluate(_MEASURE)


@pytest.mark.parametrize('stem', STEMS)
def test_slide_deck_in_browser(browser_site, stem):
    """Each deck at 1280×800: no failed or foreign request, no console error, math rendered, images loaded; on every slide
    nothing wider than the slide, no box that scrolls or clips, content no taller than the slide, never empty or a lone
    heading; every section has speaker notes; a core deck has fewer than 35 slides"""
    b, base, out = browser_site
    nb = out.parent/'nbs'/f'{stem}.ipynb'
    if not nb.exists(): pytest.skip(f'{stem} appeared after the site was built')
    page, problems = _open(b, base, f'slides/{stem}.slides.html', viewport=(1280, 800))
    try:
        m = measure(page)
        _check_page(page, problems, _has_math(nb))
        problems += [f'slide {h}/{v}: {what}' for h, v, what in m['bad']]
        if m['no_notes']: problems.append(f'sections without speaker notes (h): {m["no_notes"]}')
        if stem in CORE and m['total'] >= MAX_CORE_SLIDES: problems.append(f'{m["total"]} slides; a core deck has fewer than {MAX_CORE_SLIDES}')
        print(f'slides/{stem}: {m["total"]} slides')
    finally: page.close()
    assert not problems, f'slides/{stem}.slides.html:\n  ' + '\n  '.join(problems[:25])


def test_speaker_notes_open_offline(browser_site):
    "`s` opens reveal's speaker view (its notes plugin, served locally): it shows the slide's notes, asking no other host"
    b, base, out = browser_site
    stem = CORE[min(2, len(CORE) - 1)] if CORE else STEMS[0]
    page, problems = _open(b, base, f'slides/{stem}.slides.html', viewport=(1280, 800))
    foreign = []
    page.context.on('request', lambda r: foreign.append(r.url) if not r.url.startswith((base, 'data:', 'about:')) else None)
    try:
        page.wait_for_function('() => window.Reveal && Reveal.isReady()', timeout=30_000)
        page.evaluate('() => Reveal.slide(1, 0)')
        want = page.evaluate('() => Reveal.getSlideNotes().replace(/<[^>]+>/g, " ").replace(/\\s+/g, " ").trim().slice(0, 40)')
        with page.expect_popup(timeout=30_000) as popup: page.keyboard.press('s')
        view = popup.value
        view.wait_for_function('() => { const n = document.querySelector(".speaker-controls-notes .value");'
                               ' return n && n.innerText.trim().length > 0; }', timeout=30_000)
        shown = ' '.join(view.evaluate('() => document.querySelector(".speaker-controls-notes .value").innerText').split())
        view.close()
    finally: page.close()
    assert want and shown.startswith(want[:20]), (want, shown[:80])
    assert not foreign and not problems, foreign + problems


# ---------------------------------------------------------------------------------------------------------------
# what a deck and a RISE copy show, without a browser

def _hidden_lines(nb):
    "A distinctive line of each `#| hide` cell (one that appears nowhere else)"
    shown = '\n'.join(c.source for c in nb.cells if c.cell_type == 'markdown' or 'hide' not in build_site.split_directives(c.source)[0])
    out = []
    for c in nb.cells:
        if c.cell_type == 'code' and 'hide' in build_site.split_directives(c.source)[0]:
            out += [l.strip() for l in build_site.split_directives(c.source)[1].splitlines() if len(l.strip()) > 25 and l.strip() not in shown][:1]
    return out


_DIRECTIVE_LINE = re.compile(r'^\s*#\s*\|', re.M)


@pytest.mark.parametrize('path', build_site.notebooks(), ids=lambda p: p.stem)
def test_deck_and_rise_copy_show_no_answers(path):
    """The deck and the RISE copy's visible cells: no solution, no check-only cell, no `#| hide` cell, no directive line;
    every section has notes. The RISE copy runs the lesson's own code, cell for cell, directive lines aside."""
    nb = build_site.read_notebook(path)
    secret, hidden = _solution_lines(nb)[1], _hidden_lines(nb)
    deck = build_site.slide_notebook(nb)
    present = build_site.present_notebook(nb)
    shown = lambda cells: [c for c in cells if build_site._slide_type(c) not in ('skip', 'notes')]
    for name, cells in (('deck', deck.cells), ('RISE copy', shown(present.cells))):
        code = '\n'.join(c.source for c in cells if c.cell_type == 'code')
        assert not _DIRECTIVE_LINE.search(code), f'{name}: a directive shows: {_DIRECTIVE_LINE.search(code).group(0)!r}'
        leaks = [l for l in secret if l in code]
        assert not leaks, f'{name} shows solution lines: {leaks[:3]}'
        checks = [c.source[:60] for c in cells if c.cell_type == 'code' and build_site._is_check(c.source)]
        assert not checks, f'{name} shows check-only cells: {checks[:3]}'
        assert not [h for h in hidden if h in code], f'{name} shows #| hide cells'
    for cells in (deck.cells, present.cells):                   # every section (a `slide`) has notes
        sections, cur = [], None
        for c in cells:
            t = build_site._slide_type(c)
            if t == 'slide': cur = []; sections.append(cur)
            if cur is not None and t == 'notes' and c.source.strip(): cur.append(c)
        assert sections and all(sections), f'{path.stem}: {sum(not s for s in sections)} sections without notes'
    assert not _DIRECTIVE_LINE.search('\n'.join(c.source for c in present.cells if c.cell_type == 'code'))
    ran = [c.source.removeprefix('# Solution\n') for c in present.cells if c.cell_type == 'code']
    assert ran == [build_site._strip_directives(c.source) for c in nb.cells if c.cell_type == 'code']
    assert present.metadata.get('rise')
    nbformat.validate(present)                                  # cell ids unique, as JupyterLab needs


def test_split_code():
    "A long cell is cut where statements start, into parts that fit a slide, losing nothing"
    body = '\n'.join(f'    def m{i}(self, x):\n        "Method {i}."\n        y = x + {i}\n        return y' for i in range(12))
    src = f'class Big:\n    "A long class."\n{body}\n\nbig = Big()'
    parts = build_site._split_code(src)
    assert len(parts) > 1 and '\n'.join(parts).split() == src.split()
    assert all(build_site._wrap_lines(p) <= build_site.MAX_CODE_LINES for p in parts)
    assert all(re.match(r'(class |    def |big = )', p) for p in parts), [p[:20] for p in parts]
    assert build_site._split_code('x = 1\ny = 2') == ['x = 1\ny = 2']
