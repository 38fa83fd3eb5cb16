"""How long each lesson takes to read, measured on the cells a student sees (every cell but `#| hide` ones).

Reading minutes = prose words / 200 + code lines / 15. Prints one row per lesson and the total per track; `--json`
prints the same as JSON lines (the README and the site quote these minutes).

    python scripts/course_stats.py [--json] [NBS_DIR]
"""
import json, re, sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]
TRACKS = ('core', 'beyond', 'appendix')
WORDS_PER_MINUTE, CODE_LINES_PER_MINUTE = 200, 15
_DIRECTIVE = re.compile(r'^\s*#\s*\|\s*([\w-]+)')
_CHECK = re.compile(r'^\s*assert\b|\btest_\w+\(')


def lessons(nbs=ROOT/'nbs') -> list:
    "The lesson notebooks (`NN_topic.ipynb`), track by track, in course order."
    return [p for t in TRACKS for p in sorted((Path(nbs)/t).glob('[0-9][0-9]_*.ipynb'))]


def directives(source) -> set:
    "The nbdev directives (`#| hide`, `#| export`, ...) at the top of a cell."
    out = set()
    for line in source.splitlines():
        m = _DIRECTIVE.match(line)
        if m: out.add(m.group(1))
        elif line.strip(): break
    return out


def visible_cells(nb) -> list:
    "The cells a student sees: all but `#| hide` ones."
    return [c for c in nb.cells if 'hide' not in directives(c.source)]


def code_lines(source) -> list:
    "The lines of a code cell a reader reads: not blank, not nbdev directives."
    return [l for l in source.splitlines() if l.strip() and not _DIRECTIVE.match(l)]


def prose_words(source) -> int:
    "Words of a markdown cell, without the code blocks' and tables' punctuation."
    return len(re.findall(r"[A-Za-z0-9][\w'’-]*", source))


def stats(path) -> dict:
    nb = nbformat.read(path, as_version=4)
    cells = visible_cells(nb)
    code = [code_lines(c.source) for c in cells if c.cell_type == 'code']
    lines = [l for ls in code for l in ls]
    words = sum(prose_words(c.source) for c in cells if c.cell_type == 'markdown')
    checks = sum(bool(_CHECK.search(l)) for l in lines)
    return dict(lesson=path.stem, track=path.parent.name, cells=len(cells), words=words, code_lines=len(lines),
                longest_cell=max(map(len, code), default=0), longest_line=max(map(len, lines), default=0),
                check_share=round(checks / max(1, len(lines)), 3),
                minutes=round(words / WORDS_PER_MINUTE + len(lines) / CODE_LINES_PER_MINUTE, 1))


def table(rows) -> str:
    head = 'track     lesson                     cells  words  code  longest cell  longest line  checks  minutes'
    out = [head]
    for r in rows:
        out.append(f"{r['track']:<9} {r['lesson']:<26} {r['cells']:>5} {r['words']:>6} {r['code_lines']:>5} "
                   f"{r['longest_cell']:>13} {r['longest_line']:>13} {r['check_share']:>7.0%} {r['minutes']:>8.1f}")
    for t in TRACKS:
        mins = sum(r['minutes'] for r in rows if r['track'] == t)
        if mins: out.append(f'{t} track: {mins:.0f} minutes ({mins / 60:.1f} hours)')
    return '\n'.join(out)


if __name__ == '__main__':
    args = sys.argv[1:]
    rows = [stats(p) for p in lessons(next((a for a in args if not a.startswith('--')), ROOT/'nbs'))]
    print('\n'.join(json.dumps(r) for r in rows) if '--json' in args else table(rows))
