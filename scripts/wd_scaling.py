"""Validation MSE of dense AdamW and row-wise AdamW against weight decay on big synthetic tables (lesson 14, "the drift and weight decay").

    .venv/bin/python scripts/wd_scaling.py [--sizes 1e6,3e6,1e7] [--json nbs/beyond/data/wd_scaling.json]

For each size n: synthetic ratings on 10·√n users × 2·√n items (planted rank 5, noise sd 0.5, seed 0), `LEAN_RECIPE`
(8 epochs, bs 4,096) with the weight decays below, and the MSE on 100,000 more ratings of the same users and items.
Optimisers: dense `adamw`, `fused_rowwise_adamw` (row-wise, `wd` as given) and `touch`, what `auto_adamw` does above its
switch (`touch_wd=True`: `wd` × the smallest share of a table's rows the first batch touches). Also records that share.
"""
import argparse, json, math, sys, time
import torch
from collab_lessons.models import DotProductBias
from collab_lessons.scale import synthetic_tensors, fused_rowwise_adamw
from collab_lessons.trainer import adamw, fit, LEAN_RECIPE

GRID = dict(dense=(0.6,), rowwise=(0.6, 0.2, 0.1, 0.06), touch=(0.6,))
N_VALID = 100_000

def valid_mse(x, y, n, users, items, opt, wd):
    opt_func = dict(dense=adamw, rowwise=fused_rowwise_adamw, touch=lambda m, lr, wd: fused_rowwise_adamw(m, lr, wd, touch_wd=True))[opt]
    torch.manual_seed(0); model = DotProductBias(users, items, 50, y_range=(0.5, 5.5))
    holder = {}
    def grab(model_, lr, wd_):                       # keep the optimiser, to read the wd scale it chose
        holder['opt'] = opt_func(model_, lr, wd_); return holder['opt']
    hist = fit(model, x[:n], y[:n], x[n:], y[n:], progress=False, opt_func=grab, **dict(LEAN_RECIPE, wd=wd))
    return hist[-1]['valid_loss'], getattr(holder['opt'], 'wd_scale', None)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', default='1e6,3e6,1e7')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--json', help='write the results to this file')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    rows = []
    for n in [int(float(s)) for s in a.sizes.split(',')]:
        users, items = int(10 * math.sqrt(n)), int(2 * math.sqrt(n))
        x, y = synthetic_tensors(users, items, n + N_VALID, noise=0.5, seed=0)
        for opt, wds in GRID.items():
            for wd in wds:
                start = time.perf_counter()
                mse, scale = valid_mse(x, y, n, users, items, opt, wd)
                rows.append(dict(ratings=n, users=users, items=items, opt=opt, wd=wd, valid_mse=mse, wd_scale=scale, seconds=time.perf_counter() - start))
                print(f"{n:>11,} ratings ({users:,} x {items:,}) {opt:8s} wd {wd:<5g} valid MSE {mse:.4f}"
                      + (f"  (wd scale {scale:.3f})" if opt == 'touch' else '') + f"  {rows[-1]['seconds']:.0f} s", flush=True)
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(rows=rows, recipe=LEAN_RECIPE, n_valid=N_VALID), f, indent=1)
    return 0

if __name__ == '__main__': sys.exit(main())
