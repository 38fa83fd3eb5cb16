"""Run lesson notebooks top to bottom in a fresh kernel and save their outputs in place (the committed outputs).

Cells flagged `#| slow` keep their committed outputs unless `--slow` is given (then they run too). Each notebook runs in
its own folder, as a student runs it. Afterwards run `nbdev-clean`.

    python scripts/run_notebooks.py [--slow] nbs/core/02_models.ipynb [...]
"""
import re, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient

_SLOW = re.compile(r'^#\|\s*slow\b', re.M)


def run(path, slow=False):
    "Execute the notebook at `path` in place; `#| slow` cells keep their committed outputs unless `slow`."
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    kept = {i: c for i, c in enumerate(nb.cells) if c.cell_type == 'code' and not slow and _SLOW.search(c.source)}
    for i in kept: nb.cells[i] = nbformat.v4.new_code_cell('')            # skipped, as the tests skip them
    start = time.time()
    NotebookClient(nb, timeout=1800, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    for i, c in kept.items(): nb.cells[i] = c
    nbformat.write(nb, path)
    print(f'{path}: {time.time() - start:.0f} s', flush=True)


if __name__ == '__main__':
    args = sys.argv[1:]
    for p in (a for a in args if a != '--slow'): run(p, slow='--slow' in args)
