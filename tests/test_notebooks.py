"""Run every lesson notebook through nbdev's own executor: one pytest test per notebook, honouring `tst_flags`."""
import os
from pathlib import Path
import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook   # renamed so pytest does not collect it

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb'))

def _flags():
    cfg = get_config(ROOT)
    skip = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    force = os.environ.get('NBDEV_TEST_FLAGS', '').split()        # e.g. NBDEV_TEST_FLAGS=slow runs `#| slow` cells
    return [f for f in skip if f not in force], force, cfg

def test_notebooks_found():
    assert len(NOTEBOOKS) >= 1, 'no notebooks found in nbs/'

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb):
    skip, force, cfg = _flags()
    ok, secs = run_notebook(nb, skip_flags=skip, force_flags=force, basepath=str(ROOT), cell_timeout=cfg.cell_timeout)
    print(f'{nb.name}: {secs:.1f}s')
    assert ok, f'{nb.name} failed: see the traceback above'
