"""The course as a student meets it: every core lesson short enough to read in one sitting, code that fits a screen,
checks that teach rather than walls of them, and words about the subject only (`scripts/course_stats.py` measures)."""
import re, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'scripts'))
import course_stats  # noqa: E402

LESSONS = course_stats.lessons()
CORE = [p for p in LESSONS if p.parent.name == 'core']
BEYOND = [p for p in LESSONS if p.parent.name == 'beyond']
LIMITS = dict(minutes=35, longest_cell=25, longest_line=100, check_share=0.15)
CORE_HOURS = 5


def test_tracks():
    assert {p.parent.name for p in LESSONS} == set(course_stats.TRACKS)
    assert len(CORE) >= 10, CORE


@pytest.mark.parametrize('nb', CORE, ids=[p.stem for p in CORE])
def test_core_lesson_shape(nb):
    s = course_stats.stats(nb)
    over = {k: s[k] for k, limit in LIMITS.items() if s[k] > limit}
    assert not over, f'{nb.stem} is over the limits {LIMITS}: {over}'


@pytest.mark.parametrize('nb', BEYOND, ids=[p.stem for p in BEYOND])
def test_beyond_lesson_code_fits_a_screen(nb):
    "The longer lessons beyond the core may take more than one sitting, but their code reads like the core's."
    s = course_stats.stats(nb)
    over = {k: s[k] for k, limit in LIMITS.items() if k != 'minutes' and s[k] > limit}
    assert not over, f'{nb.stem} is over the limits {LIMITS}: {over}'


def test_core_track_hours():
    minutes = sum(course_stats.stats(p)['minutes'] for p in CORE)
    assert minutes <= 60 * CORE_HOURS, f'the core track takes {minutes:.0f} minutes to read, over {CORE_HOURS} hours'


# Words about how the work was organised, not about the subject
_OFF_TOPIC = re.compile(r'\bissues?\b|\bgoals?\b|\bgraders?\b|hidden checks?\b|\bthe task\b', re.I)


def _texts():
    for p in sorted((ROOT/'nbs').rglob('*.ipynb')): yield p, p.read_text()
    for p in [ROOT/'README.md', *sorted((ROOT/'scripts').glob('*.py')), *sorted((ROOT/'site').rglob('*.*'))]:
        yield p, p.read_text()


@pytest.mark.parametrize('path,text', list(_texts()), ids=lambda v: v.name if isinstance(v, Path) else '')
def test_words_are_about_the_subject(path, text):
    if path.name == 'test_course.py': return
    hits = sorted({m.group(0) for m in _OFF_TOPIC.finditer(text)})
    lines = [l.strip()[:120] for l in text.splitlines() if _OFF_TOPIC.search(l)][:3]
    assert not hits, f'{path.relative_to(ROOT)} speaks of {hits}: {lines}'


def test_stats_measure_what_they_say(tmp_path):
    "A visible 30-line cell, a 120-character line and an assert are counted; a hidden cell is not."
    import nbformat
    cells = [nbformat.v4.new_markdown_cell('word ' * 400), nbformat.v4.new_code_cell('\n'.join(['x = 1'] * 30)),
             nbformat.v4.new_code_cell('y = "' + 'a' * 114 + '"\nassert y'),
             nbformat.v4.new_code_cell('#| hide\n' + '\n'.join(['assert True'] * 100))]
    (tmp_path/'core').mkdir(); nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path/'core'/'00_x.ipynb')
    s = course_stats.stats(tmp_path/'core'/'00_x.ipynb')
    assert (s['words'], s['code_lines'], s['longest_cell'], s['longest_line']) == (400, 32, 30, 120)
    assert s['check_share'] == round(1 / 32, 3) and s['minutes'] == round(400 / 200 + 32 / 15, 1)


def test_readme_quotes_the_measured_minutes():
    "The README's lesson tables give each lesson's reading minutes and each track's hours as `course_stats` measures them."
    readme = (ROOT/'README.md').read_text()
    quoted = {m[1]: int(m[2]) for m in re.finditer(r'^\| `(\w+/\d\d_\w+)` \| (\d+) \|', readme, re.M)}
    stats = {f'{p.parent.name}/{p.stem}': course_stats.stats(p)['minutes'] for p in LESSONS}
    assert set(quoted) == set(stats), f'lessons missing from the README: {set(stats) - set(quoted)}; extra: {set(quoted) - set(stats)}'
    wrong = {k: (v, stats[k]) for k, v in quoted.items() if v != round(stats[k])}
    assert not wrong, f'README minutes (quoted, measured): {wrong}; regenerate them with scripts/course_stats.py'
    for t in course_stats.TRACKS:
        hours = sum(v for k, v in stats.items() if k.startswith(t + '/')) / 60
        assert re.search(rf'^### {t.capitalize()}\b.*\({hours:.1f} hours\)', readme, re.M), f'the {t} track takes {hours:.1f} hours'
