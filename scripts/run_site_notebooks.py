#!/usr/bin/env python
"""Run the notebooks the site build writes, where it writes them: each student notebook (`_site/student/`) and each RISE
copy (`_site_instructor/present/`) executes top to bottom in a fresh kernel, in its own folder, with only the files the
build put beside it. Nothing is written back.

In a student notebook each exercise's stub must fail (`NotImplementedError`) and so must its check, in one line
(`NotYet: Exercise N ...`, see `build_site.CHECK_HELPER`); no other cell may fail. A RISE copy holds the answers: no cell
may fail. Cells flagged `#| slow` (tagged `slow` in a RISE copy) are skipped, as the tests skip them.

    python scripts/run_site_notebooks.py _site/student _site_instructor/present        # every notebook, two at a time
    python scripts/run_site_notebooks.py --only 00_data,12_rankings _site/student      # a few
"""
import argparse, re, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'scripts'))
from build_site import STUB, is_check                              # noqa: E402  (the student notebook's stub)

_SLOW = re.compile(r'^\s*#\s*\|\s*slow\b', re.M)
_ANSI = re.compile(r'\x1b\[[0-9;]*m')


def expected_failures(nb) -> dict[int, str]:
    "`{cell index: 'stub' | 'check'}`: the cells of a student notebook that must fail, the stubs and the checks after them"
    out, after_stub = {}, False
    for i, c in enumerate(nb.cells):
        if c.cell_type != 'code': continue
        if c.source.strip() == STUB.strip(): out[i], after_stub = 'stub', True
        elif after_stub and is_check(c): out[i], after_stub = 'check', False
    return out


def run(path, timeout=900) -> tuple[str, bool, float, list[str]]:
    "Execute the notebook at `path` in its folder: `(path, ok, seconds, problems)`"
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:                                              # skipped, as the tests skip them
        if c.cell_type == 'code' and (_SLOW.search(c.source) or 'slow' in c.metadata.get('tags', [])): c.source = ''
    must_fail = expected_failures(nb)
    for i in must_fail:                                             # nbclient goes on after an error in these cells
        nb.cells[i].metadata['tags'] = list(nb.cells[i].metadata.get('tags', [])) + ['raises-exception']
    start, problems = time.time(), []
    try:
        NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    except CellExecutionError as e:
        i = next((k for k, c in enumerate(nb.cells) if c.cell_type == 'code' and
                  any(o.output_type == 'error' for o in c.get('outputs', [])) and k not in must_fail), None)
        problems.append(f'cell {i} failed: {_ANSI.sub("", str(e)).strip().splitlines()[-1][:300]}')
    except Exception as e:                                          # a cell that timed out, a kernel that died
        problems.append(f'{type(e).__name__}: {str(e)[:300]}')
    if not problems:
        for i, kind in must_fail.items():
            errs = [o for o in nb.cells[i].get('outputs', []) if o.output_type == 'error']
            if not errs: problems.append(f'cell {i}: the {kind} ran without an error; against the stub it must fail')
            elif kind == 'stub' and errs[0].ename != 'NotImplementedError':
                problems.append(f'cell {i}: the stub raised {errs[0].ename}, not NotImplementedError')
            elif kind == 'check' and not (errs[0].ename == 'NotYet' and errs[0].evalue.startswith('Exercise ')
                                           and len(errs[0].traceback) == 1):
                problems.append(f'cell {i}: the check should fail in one line (NotYet: Exercise ...), got '
                                f'{errs[0].ename}: {errs[0].evalue[:200]}')
    return str(path), not problems, time.time() - start, problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dirs', nargs='+', help='folders of built notebooks, e.g. _site/student _site_instructor/present')
    ap.add_argument('-j', '--jobs', type=int, default=2, help='notebooks run at the same time (default 2)')
    ap.add_argument('--only', default='', help='only these lessons, comma-separated stems (00_data,12_rankings)')
    a = ap.parse_args(argv)
    only = [s for s in a.only.split(',') if s]
    paths = [p for d in a.dirs for p in sorted(Path(d).glob('[0-9][0-9]_*.ipynb')) if not only or p.stem in only]
    if not paths: sys.exit(f'run_site_notebooks: no notebooks in {" ".join(a.dirs)}' + (f' named {only}' if only else ''))
    failed, t0 = [], time.time()
    with ProcessPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        for path, ok, secs, problems in pool.map(run, paths):
            print(f'{"ok  " if ok else "FAIL"} {path} ({secs:.0f} s)' + ''.join(f'\n     {p}' for p in problems), flush=True)
            if not ok: failed.append(path)
    print(f'run_site_notebooks: {len(paths) - len(failed)} of {len(paths)} notebooks ran as they should '
          f'in {time.time() - t0:.0f} s')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
