"""Experiments behind the defaults of `collab_lessons.bayes.BayesMF` (lesson 13).

Tuning uses only a validation carve of each base file (`--carve`, 10% of u{k}.base's rows, seed 0); `--test` scores the
canonical test files with the chosen settings (reporting only, never for choosing). Examples:

    .venv/bin/python scripts/bayes_tuning.py --carve --folds 1 --n_factors 10 20 --n_samples 300
    .venv/bin/python scripts/bayes_tuning.py --test --folds 1 2 3 4 5 --threads 2
    .venv/bin/python scripts/bayes_tuning.py --carve --folds 1 2 --n_chains 2 --n_samples 150
    .venv/bin/python scripts/bayes_tuning.py --carve --folds 1 2 --noise_shape none 8 32
    .venv/bin/python scripts/bayes_tuning.py --carve --folds 1 --n_samples 40 --cg_tol 1e-3 1e-6
    .venv/bin/python scripts/bayes_tuning.py --carve --folds 1 2 3 4 5 --features none movies users both

`--json FILE` also appends each result to FILE as one JSON line; lesson 13 reads `nbs/beyond/data/bayes_tuning.jsonl`, made by
`--make-lesson-file` (about 10 minutes on one thread), and `nbs/beyond/data/bayes_side_features.jsonl`, made by
`--make-side-features-file` (about 25 minutes of CPU on one thread).
"""
import argparse, json, time
from pathlib import Path
import numpy as np
import torch
from collab_lessons.bayes import BayesMF, feature_matrix, ml100k_features
from collab_lessons.data import fold, random_split
from collab_lessons.evaluation import BiasBaseline, rmse
from collab_lessons.trainer import encode, lookup

def score(model, train, df, vocab, dt=torch.float64):
    "RMSE on all rows of `df`: the model where user and item are known, BiasBaseline (fitted on `train`) elsewhere."
    pred = BiasBaseline().fit(train).predict(df)
    iu, ii = lookup(vocab['user'], df.user), lookup(vocab['item'], df.movie)
    known = (iu >= 0) & (ii >= 0)
    pred[known] = model.predict(torch.from_numpy(np.stack([iu, ii], 1)[known]).long()).numpy()
    return rmse(pred, df.rating), known

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument('--carve', action='store_true', help='train on 90%% of u{k}.base, score the other 10%% (tuning)')
    mode.add_argument('--test', action='store_true', help='train on u{k}.base, score u{k}.test (reporting only)')
    mode.add_argument('--make-lesson-file', action='store_true', help='run what lesson 13 quotes into nbs/beyond/data/bayes_tuning.jsonl')
    mode.add_argument('--make-side-features-file', action='store_true',
                      help="run lesson 13's side-feature table into nbs/beyond/data/bayes_side_features.jsonl")
    ap.add_argument('--folds', type=int, nargs='+', default=[1])
    ap.add_argument('--n_factors', type=int, nargs='+', default=[None])
    ap.add_argument('--n_samples', type=int, default=None); ap.add_argument('--burn_in', type=int, default=None)
    ap.add_argument('--n_chains', type=int, default=None, help='independent chains pooled (BayesMF n_chains)')
    ap.add_argument('--noise_shape', type=lambda v: None if v == 'none' else float(v), nargs='+', default=[8.],
                    help="BayesMF noise_shape values to try ('none': one shared noise precision)")
    ap.add_argument('--cg_tol', type=float, nargs='+', default=[None], help='BayesMF cg_tol values to try')
    ap.add_argument('--features', nargs='+', default=['none'], choices=['none', 'movies', 'users', 'both'],
                    help="ML-100K side features given to BayesMF (ml100k_features)")
    ap.add_argument('--no_implicit', action='store_true'); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--json', help='append each result to this file, one JSON object per line')
    ap.add_argument('--threads', type=int, default=1); ap.add_argument('--log_every', type=int, default=50)
    a = ap.parse_args(argv)
    if a.make_lesson_file: return make_tuning_file()
    if a.make_side_features_file: return make_side_features_file()
    users_side, movies_side = ml100k_features()
    torch.set_num_threads(a.threads)
    for k in a.folds:
        base, test = fold(k)
        train, valid = random_split(base, 0.1, seed=0) if a.carve else (base, test)
        x, y, vocab = encode(train)
        iu, ii = lookup(vocab['user'], valid.user), lookup(vocab['item'], valid.movie)
        known = (iu >= 0) & (ii >= 0)
        vx = torch.from_numpy(np.stack([iu, ii], 1)[known]).long(); vy = torch.tensor(valid.rating.to_numpy()[known])
        side = dict(user_features=feature_matrix(users_side, vocab['user']), item_features=feature_matrix(movies_side, vocab['item'], 'movie'))
        for nf, ns, tol, feats in [(nf, ns, tol, f) for nf in a.n_factors for ns in a.noise_shape for tol in a.cg_tol for f in a.features]:
            given = {k_: side[k_] for k_, on in (('user_features', feats in ('users', 'both')), ('item_features', feats in ('movies', 'both'))) if on}
            kw = {k_: v for k_, v in dict(n_factors=nf, n_samples=a.n_samples, burn_in=a.burn_in, n_chains=a.n_chains, cg_tol=tol).items() if v is not None}
            model = BayesMF(implicit=not a.no_implicit, seed=a.seed, noise_shape=ns, **kw)
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(x, y, len(vocab['user']), len(vocab['item']), valid=(vx, vy) if a.carve else None, log_every=a.log_every, **given)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            r, _ = score(model, train, valid, vocab)
            res = dict(fold=k, split='carve' if a.carve else 'test', **model.config(), features=feats, rmse=round(r, 4), rmse_full=r, wall_s=round(wall, 1),
                       cpu_s=round(cpu, 1), threads=a.threads, cg_iterations_mean=float(np.mean(model.cg_iterations)) if model.cg_iterations else None,
                       curve=[(h['samples'], round(h['valid_rmse'], 4)) for h in model.history])
            print(json.dumps(res), flush=True)
            if a.json:
                with open(a.json, 'a') as f: f.write(json.dumps(res) + '\n')

def make_tuning_file():
    "The runs lesson 13 quotes: the noise model on the u1 and u2 carves, rank and samples with one shared noise, the CG tolerance."
    path = str(Path(__file__).resolve().parents[1] / 'nbs' / 'beyond' / 'data' / 'bayes_tuning.jsonl')
    open(path, 'w').close()
    main(['--carve', '--folds', '1', '2', '--noise_shape', 'none', '8', '32', '--json', path])
    main(['--carve', '--folds', '1', '--noise_shape', 'none', '--n_factors', '6', '10', '20', '--n_samples', '300', '--json', path])
    main(['--carve', '--folds', '1', '--n_samples', '40', '--cg_tol', '1e-3', '1e-6', '--json', path])

def make_side_features_file():
    "Lesson 13's side-feature runs: every kind of feature on the five carves (choosing), then none and the choice on the five test folds."
    path = str(Path(__file__).resolve().parents[1] / 'nbs' / 'beyond' / 'data' / 'bayes_side_features.jsonl')
    open(path, 'w').close()
    folds = ['--folds', '1', '2', '3', '4', '5']
    main(['--carve', *folds, '--features', 'none', 'movies', 'both', '--json', path])
    main(['--test', *folds, '--features', 'none', 'movies', '--json', path])

if __name__ == '__main__': main()
