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
