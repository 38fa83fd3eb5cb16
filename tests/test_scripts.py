"""The benchmark script runs end to end in its quick mode (fold 1, fast models), prints its tables and writes its JSON."""
import json, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_script_quick(tmp_path):
    start = time.perf_counter()
    out = subprocess.run([sys.executable, str(ROOT/'scripts'/'benchmark.py'), '--quick', '--json', str(tmp_path/'r.json')],
                         capture_output=True, text=True, timeout=900)
    secs = time.perf_counter() - start
    assert out.returncode == 0, out.stderr[-2000:]
    for heading in ('Test RMSE on the canonical folds', 'NDCG@10 per fold', 'Top-10 lists, mean over the folds',
                    'Speed, DotProductBias', 'Lean trainer, one epoch', 'log-log slope'):
        assert heading in out.stdout, heading
    assert 'myFM' in out.stdout and 'GLocal-K' in out.stdout          # the peers' figures are cited beside ours
    r = json.loads((tmp_path/'r.json').read_text())
    assert r['quick'] and {row['fold'] for row in r['folds']} == {1}
    rmse = {row['model']: row['u1'] for row in r['rmse']}
    ndcg = {row['model']: row['u1'] for row in r['ndcg']}
    assert rmse['mean of dot and nn'] < rmse['Recommender dot'] < rmse['biases only'] < rmse['global mean']
    assert abs(rmse['Recommender dot'] - 0.9255) < 0.01
    assert ndcg['Recommender rank'] > 1.04 * ndcg['EASE λ=500 (reference)'] > ndcg['popularity'] > ndcg['Recommender dot']
    print(f'benchmark.py --quick: {secs:.0f}s')


def test_benchmark_script_rejects_bad_threads():
    out = subprocess.run([sys.executable, str(ROOT/'scripts'/'benchmark.py'), '--threads', '0'], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and '--threads' in out.stderr and 'at least 1' in out.stderr


def test_scale_scripts_quick(tmp_path):
    "The scripts behind lesson 14's committed figures run end to end on tiny sizes and write what the lesson reads."
    out = subprocess.run([sys.executable, str(ROOT/'scripts'/'scale_benchmark.py'), '--sizes', '2e4,4e4', '--opts', 'dense,fused',
                          '--json', str(tmp_path/'s.json')], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    s = json.loads((tmp_path/'s.json').read_text())
    assert {(r['opt'], r['ratings']) for r in s['rows']} == {(o, n) for o in ('dense', 'fused') for n in (20_000, 40_000)}
    assert set(s['slopes']) == {'dense', 'fused'} and s['fixed'] == [] and s['big'] == []
    assert 'log-log slope' in out.stdout and 'dense/fused time ratio' in out.stdout
    out = subprocess.run([sys.executable, str(ROOT/'scripts'/'wd_scaling.py'), '--sizes', '2e4', '--json', str(tmp_path/'w.json')],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    w = json.loads((tmp_path/'w.json').read_text())['rows']
    assert [(r['opt'], r['wd']) for r in w] == [('dense', 0.6), ('rowwise', 0.6), ('rowwise', 0.2), ('rowwise', 0.1), ('rowwise', 0.06), ('touch', 0.6)]
    assert all(0 < r['valid_mse'] < 2 for r in w) and 0 < w[-1]['wd_scale'] <= 1 and w[0]['wd_scale'] is None


def test_bayes_tuning_script_quick(tmp_path):
    "scripts/bayes_tuning.py (behind lesson 13's committed carve and side-feature figures) runs tiny chains, one JSON line per setting."
    out = subprocess.run([sys.executable, str(ROOT/'scripts'/'bayes_tuning.py'), '--carve', '--folds', '1', '--n_samples', '3', '--burn_in', '1',
                          '--log_every', '1', '--noise_shape', 'none', '8', '--features', 'none', 'movies', '--json', str(tmp_path/'b.jsonl')],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [json.loads(l) for l in (tmp_path/'b.jsonl').read_text().splitlines()]
    assert [(r['noise_shape'], r['features']) for r in rows] == [(None, 'none'), (None, 'movies'), (8.0, 'none'), (8.0, 'movies')]
    assert all(r['split'] == 'carve' and r['n_samples'] == 3 for r in rows)
    assert all(0.8 < r['rmse_full'] < 1.2 and r['cg_iterations_mean'] > 0 and len(r['curve']) == 3 for r in rows)
