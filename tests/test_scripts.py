"""The benchmark script runs end to end (its quick mode) and prints its three tables."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_benchmark_script_quick(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT/'scripts'/'benchmark.py'), '--quick', '--json', str(tmp_path/'r.json')],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    for heading in ('Test RMSE on the canonical folds', 'Speed, DotProductBias', 'Lean trainer, one epoch'):
        assert heading in out.stdout
    assert (tmp_path/'r.json').exists()
