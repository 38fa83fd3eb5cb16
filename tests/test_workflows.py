"""The GitHub workflows pass zizmor's offline audits with no finding: every action pinned to a commit, least-privilege
permissions, no credentials left in the checkout. `.ci/run` installs zizmor into the venv; elsewhere the audit is skipped
when zizmor is missing (`.venv/bin/pip install zizmor`)."""
import os, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT/'.github'/'workflows'
ZIZMOR = Path(sys.executable).parent/('zizmor.exe' if os.name == 'nt' else 'zizmor')
IN_CI = os.environ.get('CI', '').lower() == 'true'


def test_zizmor_finds_nothing():
    if not ZIZMOR.exists():
        if IN_CI: pytest.fail(f'{ZIZMOR} is missing: .ci/run installs it after `make setup`')
        pytest.skip(f'{ZIZMOR} is not installed (.venv/bin/pip install zizmor)')
    r = subprocess.run([str(ZIZMOR), '--offline', '--no-progress', '--color=never', str(WORKFLOWS)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, f'zizmor --offline .github/workflows/ (exit {r.returncode}):\n{r.stdout}\n{r.stderr}'
    assert 'No findings' in r.stdout, r.stdout + r.stderr


def test_actions_pinned_with_tag_comment():
    "Each `uses:` names a full commit and, in a comment, the release it is (zizmor checks the latter only online)"
    bad = []
    for f in sorted(WORKFLOWS.glob('*.y*ml')):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            m = re.match(r'\s*(?:-\s+)?uses:\s*(\S+)(.*)', line)
            if m and not (re.fullmatch(r'[\w.-]+/[\w./-]+@[0-9a-f]{40}', m.group(1))
                          and re.fullmatch(r'\s+#\s*v\d+\.\d+\.\d+\s*', m.group(2))):
                bad.append(f'{f.name}:{n}: {line.strip()}')
    assert not bad, 'pin each action as `owner/repo@<40-hex commit> # vX.Y.Z`:\n' + '\n'.join(bad)
