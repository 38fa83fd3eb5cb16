"""Data-parallel training on CPU: 2 gloo processes started by torchrun train the same model as 1 process (lesson 14, `collab_lessons.scale`)."""
import subprocess, sys
from pathlib import Path
import pytest
import torch

SCRIPT = r'''
import sys, torch
from collab_lessons.scale import distributed, fit_distributed, rowwise_adamw, synthetic_tensors
from collab_lessons.trainer import adamw
from collab_lessons.models import DotProductBias
out, opt = sys.argv[1], sys.argv[2]
x, y = synthetic_tensors(60, 40, 2000, seed=0)
with distributed() as (rank, world_size):
    torch.manual_seed(0); model = DotProductBias(60, 40, 8)
    hist = fit_distributed(model, x[:1700], y[:1700], x[1700:], y[1700:], epochs=2, lr=1e-2, wd=0.1, bs=256, progress=False,
                           opt_func=dict(dense=adamw, row=rowwise_adamw)[opt])
    torch.save(dict(state=model.state_dict(), hist=hist, world=world_size), f'{out}/{world_size}-{rank}.pt')
'''

@pytest.mark.parametrize('opt', ['dense', 'row'])
def test_two_ranks_equal_one_process(tmp_path, opt):
    script = tmp_path / 'train.py'
    script.write_text(SCRIPT)
    torchrun = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2']
    subprocess.run(torchrun + [str(script), str(tmp_path), opt], check=True, timeout=300)
    subprocess.run([sys.executable, str(script), str(tmp_path), opt], check=True, timeout=300)
    one, r0, r1 = (torch.load(tmp_path / f) for f in ('1-0.pt', '2-0.pt', '2-1.pt'))
    assert (one['world'], r0['world'], r1['world']) == (1, 2, 2)
    for k, w in one['state'].items():
        assert (r0['state'][k] - r1['state'][k]).abs().max().item() < 1e-6, f'ranks disagree on {k}'
        assert (w - r0['state'][k]).abs().max().item() < 1e-6, f'{k}: 2 ranks differ from 1 process'
    for h1, h2 in zip(one['hist'], r0['hist']):
        assert abs(h1['train_loss'] - h2['train_loss']) < 1e-6 and abs(h1['valid_loss'] - h2['valid_loss']) < 1e-6

def test_cli_under_torchrun_equals_single_process(tmp_path):
    "The product: `collab-recommend` under torchrun (2 gloo ranks) trains one model equal to the single-process run."
    import numpy as np, pandas as pd
    from collab_lessons.recommender import Recommender
    x, y = __import__('collab_lessons.scale', fromlist=['synthetic_tensors']).synthetic_tensors(80, 50, 3000, seed=1)
    df = pd.DataFrame({'user': [f'u{u}' for u in x[:, 0].tolist()], 'item': [f'i{i}' for i in x[:, 1].tolist()],
                       'rating': y.round().clamp(1, 5).tolist()}).drop_duplicates(['user', 'item'])
    csv = tmp_path / 'ratings.csv'
    df.to_csv(csv, index=False)
    cli = [str(csv), '--epochs', '3', '--bs', '512', '-n', '3']
    exe = str(Path(sys.executable).parent / 'collab-recommend')     # the installed command, as the README runs it
    torchrun = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', exe]
    two = subprocess.run(torchrun + cli + ['--out', str(tmp_path / 'two')], capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-2000:]
    one = subprocess.run([exe] + cli + ['--out', str(tmp_path / 'one')],
                         capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.stdout.count('saved to') == 1                      # only rank 0 prints
    a, b = Recommender.load(tmp_path / 'one'), Recommender.load(tmp_path / 'two')
    assert (a.config['world_size'], b.config['world_size']) == (1, 2)
    assert np.abs(a.predict(df) - b.predict(df)).max() < 1e-4
