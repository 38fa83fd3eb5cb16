"""Benchmarks of collab_lessons, printed as tables: accuracy on GroupLens' canonical folds, speed of the lean trainer
against fastai's Learner (both timed in this run, reported as a ratio), and time per epoch vs number of ratings.

    .venv/bin/python scripts/benchmark.py [--quick] [--json results.json]
"""
import argparse, json, sys
import pandas as pd
import torch
from collab_lessons.weight_decay import WD_RECIPE
from collab_lessons.benchmarks import (machine_info, fold_benchmark, fold_table, DEFAULT_MODELS, DEFAULT_BLENDS, speed_benchmark,
                                       scaling_benchmark)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='fold 1 only, no fastbook-recipe fastai run, scaling up to 10^6')
    p.add_argument('--threads', type=int, default=1, help='torch threads (default 1: fastest and steadiest on 2 cores)')
    p.add_argument('--json', help='also write all results to this JSON file')
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    pd.set_option('display.width', 200); pd.set_option('display.max_columns', None)
    info = machine_info()
    print('machine:', ', '.join(f'{k}={v}' for k, v in info.items()), flush=True)

    folds = fold_benchmark(DEFAULT_MODELS, DEFAULT_BLENDS, folds=(1,) if a.quick else (1, 2, 3, 4, 5))
    table = fold_table(folds)
    print('\nTest RMSE on the canonical folds (Surprise: SVD 0.934, SVD++ 0.919)\n', table.round(4), flush=True)

    recipes = {'fastai, weight-decay lesson recipe': WD_RECIPE}
    if not a.quick: recipes = {'fastai, fastbook recipe (bs=64)': dict(bs=64, epochs=5, lr=5e-3, wd=0.1), **recipes}
    speed = speed_benchmark(recipes)
    print('\nSpeed, DotProductBias on the seeded 80/20 split (same run)\n', speed.round(3), flush=True)

    scaling = scaling_benchmark(sizes=(10**5, 3*10**5, 10**6) if a.quick else (10**5, 3*10**5, 10**6, 3*10**6, 10**7))
    print('\nLean trainer, one epoch on synthetic ratings\n', scaling.round(3), flush=True)

    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(machine=info, folds=folds.to_dict('records'), speed=speed.reset_index().to_dict('records'),
                           scaling=scaling.to_dict('records')), f, indent=1)
    return 0

if __name__ == '__main__': sys.exit(main())
