"""The package follows the lessons: a module imports only from lessons before it (an earlier track, or an earlier
notebook of its own track). Two modules are the foundation every track stands on, and the appendix explains how
they are built: `store` (loading MovieLens-100K safely, the argument checkers) and `trainer` (the lean training loop)."""
import ast, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACKS = ('core', 'beyond', 'appendix')
FOUNDATION = {'store', 'trainer'}
# `Recommender.save` and `.load` are the product's doors to `saving`, the next lesson: imported when called
LATER_ON_CALL = {('recommender', 'saving')}


def lesson_order() -> dict:
    "module -> (track index, notebook number), from each notebook's `#| default_exp`"
    order = {}
    for nb in ROOT.glob('nbs/*/[0-9][0-9]_*.ipynb'):
        m = re.search(r'#\|\s*default_exp\s+(\w+)', nb.read_text())
        if m: order[m.group(1)] = (TRACKS.index(nb.parent.name), int(nb.stem[:2]))
    return order


def imports(module) -> set:
    "The package modules `module` imports anywhere in its source (top level or inside functions)"
    tree = ast.parse((ROOT/'collab_lessons'/f'{module}.py').read_text())
    found = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.level == 1:     # `from .x import y`, or `from . import x`
            found |= {n.module} if n.module else {a.name for a in n.names}
        elif isinstance(n, ast.ImportFrom) and (n.module or '').startswith('collab_lessons.'):
            found.add(n.module.split('.')[1])
    return found


def test_no_module_imports_a_later_lesson():
    order = lesson_order()
    assert len(order) >= 20, order
    late = [(m, dep) for m in order for dep in imports(m)
            if dep not in FOUNDATION and order[dep] > order[m] and (m, dep) not in LATER_ON_CALL]
    assert not late, f'modules importing a later lesson: {late}'
