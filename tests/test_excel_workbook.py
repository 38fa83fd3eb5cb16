"""The Excel sheet that `collab_lessons.latent_factors.write_workbook` writes computes, with live formulas, what the
notebook computes: its formulas are evaluated offline with the `formulas` package (no Excel needed)."""
import contextlib, csv, io, shutil, subprocess
import numpy as np
import pandas as pd
import pytest
import torch

formulas = pytest.importorskip('formulas')
openpyxl = pytest.importorskip('openpyxl')
from collab_lessons.latent_factors import predict_table, masked_rmse as rmse, write_workbook  # noqa: E402


def _tiny(seed=0, n_users=4, n_movies=5, k=3):
    "A 4 x 5 crosstab with some blank ratings, and random factors (the blank cells get wild predictions)."
    rng = np.random.default_rng(seed)
    r = rng.integers(1, 6, (n_users, n_movies)).astype(float)
    r[[0, 1, 3, 3], [1, 4, 0, 2]] = np.nan
    ct = pd.DataFrame(r, index=[101, 102, 103, 104][:n_users], columns=[11, 12, 13, 14, 15][:n_movies])
    u, m = rng.normal(1, 1, (n_users, k)), rng.normal(1, 1, (n_movies, k))
    return ct, u, m


def _evaluate(path) -> dict:
    "Every cell of the workbook's only sheet, evaluated: {'B2': value, ...}"
    with contextlib.redirect_stderr(io.StringIO()):                # formulas draws a progress bar
        sol = formulas.ExcelModel().loads(str(path)).finish().calculate()
    out = {}
    for key, v in sol.items():
        if '!' not in key or ':' in key: continue                  # skip ranges, keep single cells
        val = getattr(v, 'value', v)
        out[key.split('!')[1]] = val[0, 0] if isinstance(val, np.ndarray) else val
    return out


@pytest.fixture(scope='module')
def sheet(tmp_path_factory):
    ct, u, m = _tiny()
    path = tmp_path_factory.mktemp('xl')/'tiny.xlsx'
    cell = write_workbook(ct, u, m, path)
    return ct, u, m, path, cell, _evaluate(path)


def test_rmse_cell_equals_numpy(sheet):
    ct, u, m, path, cell, vals = sheet
    r = ct.to_numpy()
    rated = ~np.isnan(r)
    want = np.sqrt((((u @ m.T) - r)[rated] ** 2).mean())
    assert float(vals[cell]) == pytest.approx(want, rel=1e-9)
    # and the notebook's own torch RMSE for the same factors (float32), to a relative 1e-6
    params = {'user_factors': torch.tensor(u, dtype=torch.float32), 'item_factors': torch.tensor(m, dtype=torch.float32)}
    assert float(vals[cell]) == pytest.approx(rmse(predict_table(params), ct).item(), rel=1e-6)


def test_blank_ratings_are_excluded(sheet):
    ct, u, m, path, cell, vals = sheet
    r = ct.to_numpy()
    err = (u @ m.T) - r
    over_all_cells = np.sqrt(np.nansum(err ** 2) / r.size)            # dividing by every cell would be wrong
    with_blank_cells = np.sqrt((((u @ m.T) - np.nan_to_num(r)) ** 2).mean())  # blanks taken as 0 stars
    assert float(vals[cell]) != pytest.approx(over_all_cells, rel=1e-3)
    assert float(vals[cell]) != pytest.approx(with_blank_cells, rel=1e-3)
    ws = openpyxl.load_workbook(path).active
    k, (n_u, n_m) = u.shape[1], r.shape
    rat, mf = 5, 5 + n_u + 2
    pr = mf + k + 2
    se = pr + n_u + 2
    for i in range(n_u):
        for j in range(n_m):
            col = openpyxl.utils.get_column_letter(k + 3 + j)
            assert (ws[f'{col}{rat + i}'].value is None) == bool(np.isnan(r[i, j]))   # blank rating = empty cell
            p, s = vals[f'{col}{pr + i}'], vals[f'{col}{se + i}']
            if np.isnan(r[i, j]): assert p == '' and s == '', (i, j, p, s)
            else:
                assert float(p) == pytest.approx((u @ m.T)[i, j], rel=1e-9)
                assert float(s) == pytest.approx(err[i, j] ** 2, rel=1e-9)


def test_formulas_are_live(sheet):
    "Prediction and RMSE cells hold formulas over the factor cells, not numbers; factor cells hold the factors."
    ct, u, m, path, cell, vals = sheet
    ws = openpyxl.load_workbook(path).active
    assert ws[cell].value.startswith('=SQRT(')
    assert ws['H16'].value.startswith('=IF(') and 'MMULT($B16:$D16,H$11:H$13)' in ws['H16'].value
    assert ws['B16'].value == pytest.approx(u[0, 0]) and ws['F11'].value == pytest.approx(m[0, 0])


def test_bad_shapes_fail_clearly(tmp_path):
    ct, u, m = _tiny()
    with pytest.raises(ValueError, match=r'user_factors must be \(4, k\)'):
        write_workbook(ct, u[:3], m, tmp_path/'x.xlsx')
    with pytest.raises(ValueError, match='item_factors'):
        write_workbook(ct, u, m[:, :2], tmp_path/'x.xlsx')
    assert not (tmp_path/'x.xlsx').exists()


@pytest.mark.skipif(shutil.which('soffice') is None, reason='LibreOffice is not installed (apt-get install libreoffice-calc-nogui)')
def test_libreoffice_computes_the_same_rmse(tmp_path):
    "The sheet as a student opens it: LibreOffice Calc recalculates it (headless) to the notebook's RMSE."
    ct, u, m = _tiny()
    cell = write_workbook(ct, u, m, tmp_path/'tiny.xlsx')
    subprocess.run(['soffice', '--headless', '--convert-to', 'csv', 'tiny.xlsx', '--outdir', str(tmp_path)],
                   cwd=tmp_path, capture_output=True, timeout=300, check=True)
    rows = list(csv.reader((tmp_path/'tiny.csv').read_text().splitlines()))
    row, col = int(cell[1:]) - 1, ord(cell[0]) - ord('A')
    pred = torch.tensor(u @ m.T)
    target = torch.tensor(ct.to_numpy())
    want = rmse(pred, torch.nan_to_num(target), mask=~torch.isnan(target)).item()
    assert float(rows[row][col]) == pytest.approx(want, rel=1e-6)
