"""Tuning experiments behind the ranking lesson (nbs/beyond/12_rankings.ipynb): every setting is chosen on a validation split
carved from each base file u{k}.base (`random_split(base, 0.2, seed=0)`), never on u{k}.test.

    .venv/bin/python scripts/rank_tuning.py --what lam     # EASE: λ
    .venv/bin/python scripts/rank_tuning.py --what mode    # EASE: filter or weight the matrix by rating
    .venv/bin/python scripts/rank_tuning.py --what z       # EASE: weight 1 + slope·z (z = standardised rating), as in `Rank`
    .venv/bin/python scripts/rank_tuning.py --what drop    # EASE: EDLAE dropout emphasis
    .venv/bin/python scripts/rank_tuning.py --what beta    # EASE: popularity normalisation (column scaling, score / pop^β)
    .venv/bin/python scripts/rank_tuning.py --what bpr     # BPR recipe on the validation carve of u1.base
    .venv/bin/python scripts/rank_tuning.py --what test    # the chosen settings on the test files (report only)
    .venv/bin/python scripts/rank_tuning.py --what scale --n 20000   # EASE fit time and added peak memory, synthetic data
"""
import argparse, itertools, os, time
os.environ.setdefault("OMP_NUM_THREADS", "1"); os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np
import pandas as pd
import torch
from collab_lessons.data import fold, random_split, synthetic_ratings
from collab_lessons.evaluation import ranking_metrics

torch.set_num_threads(1)
N_USERS, N_ITEMS = 943, 1682           # ML-100K ids are 1..943 and 1..1682: index = id - 1


def carve(base, pct=0.2, seed=0):
    "A seeded random `pct` of the rows of `base` as validation, the rest as training (as in the lesson)."
    return random_split(base, pct, seed=seed)


def matrix(df, values=None):
    X = np.zeros((N_USERS, N_ITEMS), dtype=np.float64)
    X[df.user.to_numpy() - 1, df.movie.to_numpy() - 1] = 1.0 if values is None else values
    return X


def ndcg_at_k(scores, train, test, k=10, relevant=4):
    "Mean NDCG@k of the score matrix `scores` (users x items, index = id - 1) by the lesson's `ranking_metrics`."
    items = np.sort(train.movie.unique())
    score_fn = lambda users: scores[np.asarray(users) - 1][:, items - 1]
    return ranking_metrics(score_fn, train, test, items=items, k=k, relevant=relevant)[f'ndcg@{k}']


def ease_B(X, lam, drop=0.0, beta=0.0):
    "EASE weights; `drop` adds EDLAE's dropout emphasis p/(1-p)·diag(G) to the diagonal; `beta` scales columns by pop^-beta."
    G = X.T @ X
    if beta:
        d = np.maximum(np.diag(G), 1e-12) ** (-beta / 2)
        G = G * d[:, None] * d[None, :]
    diag = np.diag(G).copy()
    P = np.linalg.inv(G + np.diag(lam + drop / (1 - drop) * diag))
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0)
    if beta: B = B * d[:, None] / d[None, :]        # back to the original column scale: scores = X @ B
    return B


def implicit(train, mode):
    r = train.rating.to_numpy(float)
    if mode == 'all': return matrix(train)
    if mode.startswith('ge'): t = int(mode[2:]); return matrix(train[train.rating >= t])
    if mode.startswith('w'):                        # w<a>: weight = 1 + a * (r - 3)  (a=0: plain)
        a = float(mode[1:]); return matrix(train, np.clip(1 + a * (r - 3), 0.05, None))
    if mode.startswith('g'):                        # g<a>: weight = 1 + a * (r - global mean)
        a = float(mode[1:]); return matrix(train, np.clip(1 + a * (r - r.mean()), 0.05, None))
    if mode.startswith('u'):                        # u<a>: weight = 1 + a * (r - user mean)
        a = float(mode[1:]); um = train.groupby('user').rating.transform('mean').to_numpy()
        return matrix(train, np.clip(1 + a * (r - um), 0.05, None))
    if mode.startswith('z'):                        # z<a>: weight = 1 + a * (r - mean) / std
        a = float(mode[1:]); return matrix(train, np.clip(1 + a * (r - r.mean()) / r.std(), 0.05, None))
    if mode.startswith('p'):                        # p<a>: weight = (r / 5) ** a
        a = float(mode[1:]); return matrix(train, (r / r.max()) ** a)
    raise ValueError(mode)


def run_ease(train, test, lam, mode='all', drop=0.0, beta=0.0, pop_pow=0.0):
    X = implicit(train, mode)
    Xin = matrix(train)
    B = ease_B(X, lam, drop, beta)
    s = (Xin if mode == 'all' or mode.startswith('ge') else X) @ B
    if pop_pow:
        pop = matrix(train).sum(0) + 1
        s = s / pop ** pop_pow
    return ndcg_at_k(s, train, test)


def measure_ease(n_items, threads=1):
    "Fit time and added peak memory (Linux VmHWM, reset before the fit) of `Ease` on synthetic data, as in the lesson."
    import re
    from pathlib import Path
    from collab_lessons.rankings import Ease
    mem = lambda f: int(re.search(rf'{f}:\s+(\d+) kB', Path('/proc/self/status').read_text()).group(1)) / 1024
    r, _ = synthetic_ratings(n_users=n_items, n_movies=n_items, n_ratings=50 * n_items, seed=0)
    xs = torch.tensor(r[['user', 'movie']].to_numpy())
    torch.set_num_threads(threads)
    Path('/proc/self/clear_refs').write_text('5')
    before = mem('VmRSS')
    start = time.perf_counter(); Ease(max_items=10**6).fit(xs, n_items, n_items); secs = time.perf_counter() - start
    return dict(n_items=n_items, seconds=round(secs, 2), peak_mb=round(mem('VmHWM') - before, 1), matrix_mb=round(4 * n_items ** 2 / 2 ** 20, 1))


def grid(folds, fn, params):
    rows = []
    for p in params:
        vals = [fn(tr, va, **p) for tr, va in folds]
        rows.append(dict(p, mean=np.mean(vals), **{f'u{k+1}': v for k, v in enumerate(vals)}))
    return pd.DataFrame(rows).sort_values('mean', ascending=False)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--what', default='lam'); ap.add_argument('--n', type=int, default=5000)
    args = ap.parse_args()
    if args.what == 'scale': print(measure_ease(args.n)); raise SystemExit
    data = [fold(k) for k in range(1, 6)]
    val = [carve(b) for b, _ in data]
    test = [(b, t) for b, t in data]
    pd.set_option('display.width', 200)
    t0 = time.time()
    if args.what == 'lam':
        print(grid(val, run_ease, [dict(lam=l) for l in (100, 200, 300, 500, 800, 1200)]).round(4))
    if args.what == 'mode':
        ps = [dict(lam=l, mode=m) for l in (300, 500) for m in ('all', 'ge3', 'ge4', 'w0.25', 'w0.5', 'w1')]
        print(grid(val, run_ease, ps).round(4))
    if args.what == 'drop':
        ps = [dict(lam=l, drop=d) for l in (50, 200, 500) for d in (0.1, 0.25, 0.33, 0.5)]
        print(grid(val, run_ease, ps).round(4))
    if args.what == 'beta':
        ps = [dict(lam=l, beta=b) for l in (200, 500) for b in (0.1, 0.2, 0.3)] + \
             [dict(lam=l, pop_pow=b) for l in (500,) for b in (0.05, 0.1, 0.2)]
        print(grid(val, run_ease, ps).round(4))
    if args.what == 'mode2':
        ps = [dict(lam=l, mode=m) for l in (500, 800) for m in ('w0.5', 'w0.75', 'g0.5', 'u0.5', 'p1', 'p2')]
        print(grid(val, run_ease, ps).round(4))
    if args.what == 'beta2':
        ps = [dict(lam=500, mode='w0.5', beta=b) for b in (0.1, 0.25)] + [dict(lam=500, mode='w0.5', pop_pow=b) for b in (0.05, 0.1, 0.2)]
        print(grid(val, run_ease, ps).round(4))
    if args.what == 'z':
        ps = [dict(lam=l, mode=m) for l in (500, 800) for m in ('z0.5', 'z0.6')]
        ps += [dict(lam=500, mode='z0.5', beta=0.15), dict(lam=500, mode='z0.5', pop_pow=0.1)]
        print(grid(val, run_ease, ps).round(4))
    if args.what == 'test':
        ps = [dict(lam=500), dict(lam=500, mode='z0.5')]
        print(grid(test, run_ease, ps).round(4))
    if args.what == 'bpr':
        from collab_lessons.rankings import BPR, ranking_scores
        from collab_lessons.trainer import encode
        b, _ = data[0]; fr, vr = carve(b)
        xb, yb, vb = encode(b); xf, yf, _ = encode(fr, vocab=vb)
        for p in [dict(lr=1e-2, wd=0.1), dict(lr=1e-2, wd=0.5), dict(lr=3e-2, wd=0.1), dict(lr=3e-2, wd=0.5), dict(lr=3e-2, wd=1.),
                  dict(lr=5e-2, wd=0.5, bs=4096), dict(lr=2e-2, wd=0.3), dict(lr=3e-2, wd=0.5, slope=0.5)]:
            p = dict(dict(n_factors=64, epochs=20, bs=2048, slope=0.), **p)
            m = BPR(**p).fit(xf, len(vb['user']), len(vb['item']), weight=yf)
            print(p, round(ranking_metrics(ranking_scores(m, vb), fr, vr, items=vb['item'])['ndcg@10'], 4), flush=True)
    print(f'{time.time() - t0:.1f}s')
