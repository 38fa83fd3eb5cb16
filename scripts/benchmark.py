"""Benchmarks of collab_lessons, printed as tables: rating accuracy (test RMSE) and top-10 lists (precision, recall,
NDCG@10, coverage, popularity) per fold on GroupLens' canonical folds next to the peers' figures, speed of the lean
trainer against fastai's Learner (timed in this run, reported as a ratio), and time per epoch vs number of ratings.

    .venv/bin/python scripts/benchmark.py [--quick] [--json results.json] [--threads 1]

The default runs the five folds with every model (tens of minutes on 2 busy cores); `--quick` runs fold 1 with the
fast models only (no Bayesian sampler, no BPR), fastai with one recipe, and sizes up to 10^6 (about a minute).
"""
import argparse, json, math, sys, time

QUICK_SKIP = ('Recommender bayes', 'Recommender bpr', 'Recommender ease')     # the slow ones, and the duplicate of the reference
FASTBOOK = dict(bs=64, epochs=5, lr=5e-3, wd=0.1)


def _positive_int(text):
    try: v = int(text)
    except ValueError: raise argparse.ArgumentTypeError(f'must be a whole number, got {text!r}') from None
    if v < 1: raise argparse.ArgumentTypeError(f'must be at least 1, got {v}')
    return v


def _records(df):
    "JSON-safe records (NaN -> None)."
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in df.to_dict('records')]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].replace('\n', ' '))
    p.add_argument('--quick', action='store_true', help='fold 1 only, without bayes/bpr; fastai with WD_RECIPE only; scaling up to 10^6')
    p.add_argument('--threads', type=_positive_int, default=1, help='torch threads (default 1: fastest and steadiest on 2 cores)')
    p.add_argument('--json', help='also write all results to this JSON file')
    a = p.parse_args(argv)
    import pandas as pd, torch                   # the heavy imports after the arguments are checked
    torch.set_num_threads(a.threads)
    from collab_lessons.weight_decay import WD_RECIPE
    from collab_lessons.trainer import adamw
    from collab_lessons.scale import auto_adamw
    from collab_lessons.benchmarks import (machine_info, fold_benchmark, fold_table, ranking_table, with_peers, RATING_MODELS, BLENDS,
                                           RANKING_MODELS, speed_benchmark, scaling_benchmark, log_log_slope)
    pd.set_option('display.width', 200); pd.set_option('display.max_columns', None)
    start = time.perf_counter()
    info = machine_info()
    print('machine:', ', '.join(f'{k}={v}' for k, v in info.items()), flush=True)

    models = {**RATING_MODELS, **RANKING_MODELS}
    if a.quick: models = {k: v for k, v in models.items() if k not in QUICK_SKIP}
    folds = fold_benchmark(models, BLENDS, folds=(1,) if a.quick else (1, 2, 3, 4, 5))
    rmse_table = fold_table(folds)
    print('\nTest RMSE on the canonical folds, with the peers (myFM and Surprise measured on the same folds; GLocal-K, GC-MC published)\n',
          with_peers(rmse_table).round(4), flush=True)
    ndcg = fold_table(folds, 'ndcg@10')
    print('\nNDCG@10 per fold (relevant = test rating >= 4, seen movies excluded)\n', ndcg.round(4), flush=True)
    print('\nTop-10 lists, mean over the folds\n', ranking_table(folds).round(4), flush=True)

    recipes = {'fastai, weight-decay lesson recipe': WD_RECIPE}
    if not a.quick: recipes = {'fastai, fastbook recipe (bs=64)': FASTBOOK, **recipes}
    speed = speed_benchmark(recipes)
    print('\nSpeed, DotProductBias on the seeded 80/20 split (same run)\n',
          speed[['bs', 'epochs', 'lr', 'wd', 'seconds', 'valid_mse', 'speed-up']].round(3), flush=True)

    opts = {'dense adamw': adamw} if a.quick else {'dense adamw': adamw, 'auto_adamw (the product)': auto_adamw}
    scaling = scaling_benchmark(sizes=(10**5, 3*10**5, 10**6) if a.quick else (10**5, 3*10**5, 10**6, 3*10**6, 10**7), opt_funcs=opts)
    slope = {name: log_log_slope(g.ratings, g.seconds_per_epoch) for name, g in scaling.groupby('optimizer')}
    print('\nLean trainer, one epoch on synthetic ratings (seconds_per_epoch: CPU)\n', scaling.round(3),
          '\nlog-log slope (1.0 = linear):', {k: round(v, 2) for k, v in slope.items()}, flush=True)
    print(f'\ntotal {time.perf_counter() - start:.0f}s', flush=True)

    if a.json:
        folds = folds.assign(tuned=folds.tuned.map(lambda t: None if not isinstance(t, dict) else t))
        with open(a.json, 'w') as f:
            json.dump(dict(machine=info, quick=a.quick, folds=_records(folds), rmse=_records(rmse_table.reset_index()),
                           ndcg=_records(ndcg.reset_index()), speed=_records(speed.reset_index()),
                           scaling=_records(scaling), scaling_slope=slope), f, indent=1, default=float)
    return 0


if __name__ == '__main__': sys.exit(main())
