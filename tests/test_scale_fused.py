"""The compiled row-wise optimiser (lesson 14, `collab_lessons.scale.FusedRowAdamW`) under data-parallel training: 2 gloo ranks
started by torchrun equal 1 process, as `tests/test_distributed.py` checks for the torch optimisers; and the same seed gives the same numbers."""
import subprocess, sys
import pytest
import torch

SCRIPT = r'''
import sys, torch
from collab_lessons.scale import distributed, fit_distributed, fused_rowwise_adamw, synthetic_tensors, FusedRowAdamW
from collab_lessons.models import DotProductBias
out = sys.argv[1]
x, y = synthetic_tensors(60, 40, 2000, seed=0)
with distributed() as (rank, world_size):
    torch.manual_seed(0); model = DotProductBias(60, 40, 8)
    used = []
    def opt_func(m, lr, wd):
        opt = fused_rowwise_adamw(m, lr, wd); used.append(type(opt).__name__); return opt
    hist = fit_distributed(model, x[:1700], y[:1700], x[1700:], y[1700:], epochs=2, lr=1e-2, wd=0.1, bs=256, progress=False, opt_func=opt_func)
    torch.save(dict(state=model.state_dict(), hist=hist, world=world_size, opt=used[0]), f'{out}/{world_size}-{rank}.pt')
'''

def test_fused_two_ranks_equal_one_process(tmp_path):
    import numba  # a dependency (pyproject): its absence is a failure, not a skip
    script = tmp_path / 'train.py'
    script.write_text(SCRIPT)
    torchrun = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2']
    subprocess.run(torchrun + [str(script), str(tmp_path)], check=True, timeout=300)
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, timeout=300)
    one, r0, r1 = (torch.load(tmp_path / f) for f in ('1-0.pt', '2-0.pt', '2-1.pt'))
    assert (one['world'], r0['world'], r1['world']) == (1, 2, 2) and one['opt'] == r0['opt'] == 'FusedRowAdamW'
    for k, w in one['state'].items():
        assert (r0['state'][k] - r1['state'][k]).abs().max().item() < 1e-6, f'ranks disagree on {k}'
        assert (w - r0['state'][k]).abs().max().item() < 1e-5, f'{k}: 2 ranks differ from 1 process'
    for h1, h2 in zip(one['hist'], r0['hist']):
        assert abs(h1['train_loss'] - h2['train_loss']) < 1e-5 and abs(h1['valid_loss'] - h2['valid_loss']) < 1e-5

def test_fused_same_seed_same_numbers():
    import numba  # a dependency (pyproject): its absence is a failure, not a skip
    from collab_lessons.scale import fused_rowwise_adamw, synthetic_tensors
    from collab_lessons.trainer import fit
    from collab_lessons.models import DotProductBias
    x, y = synthetic_tensors(300, 200, 20_000, seed=2)
    runs = []
    for _ in range(2):
        torch.manual_seed(0); model = DotProductBias(300, 200, 16)
        hist = fit(model, x, y, epochs=2, lr=1e-2, wd=0.1, bs=512, progress=False, opt_func=fused_rowwise_adamw)
        runs.append((model.state_dict(), [h['train_loss'] for h in hist]))
    assert runs[0][1] == runs[1][1]
    assert all(torch.equal(runs[0][0][k], runs[1][0][k]) for k in runs[0][0])
