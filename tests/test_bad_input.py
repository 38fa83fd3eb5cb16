"""Bad input and broken environments give a clear error or the documented fallback.

- lesson 0: a data folder whose u.data is a directory;
- lessons 0 and 3: ids of two types in one column;
- lesson 13: ratings BayesMF cannot learn from, and Cholesky failures inside its sampler;
- lesson 14: numba failing to import, compile or run: the torch `RowAdamW` runs, with one warning.
"""
import importlib.abc, json, os, subprocess, sys, types, warnings
import pandas as pd
import pytest
import torch

from collab_lessons import scale
from collab_lessons.bayes import BayesMF
from collab_lessons.data import CANONICAL_FILES, check_ratings, ml100k_path
from collab_lessons.evaluation import BiasBaseline, GlobalMean


# --- lesson 0: a data folder whose u.data is a directory ---------------------------------------

def test_udata_directory_is_named(tmp_path, monkeypatch):
    for n in CANONICAL_FILES: (tmp_path/n).write_bytes(b'')
    (tmp_path/'u.data').unlink(); (tmp_path/'u.data').mkdir()
    want = f'{tmp_path} is incomplete: {tmp_path/"u.data"} is a directory, where a file is expected'
    with pytest.raises(FileNotFoundError, match='Unzip the whole ml-100k.zip there again') as e:
        ml100k_path(tmp_path)
    assert want in str(e.value)
    monkeypatch.setenv('ML100K_PATH', str(tmp_path))
    with pytest.raises(FileNotFoundError) as e: ml100k_path()
    assert want in str(e.value)


# --- lessons 0 and 3: ids of two types in one column --------------------------------------------

MIXED = pd.DataFrame({'user': [1, '2', 1, '2'], 'movie': [10, 10, 20, 20],
                      'rating': [3., 4., 5., 2.]})

@pytest.mark.parametrize('fit', [check_ratings, lambda df: GlobalMean().fit(df),
                                 lambda df: BiasBaseline().fit(df)],
                         ids=['check_ratings', 'GlobalMean', 'BiasBaseline'])
def test_mixed_ids_are_named(fit):
    with pytest.raises(ValueError) as e: fit(MIXED)
    msg = str(e.value)
    assert ("column 'user' mixes ids of different types, e.g. 1 (int) at row 0 and '2' (str) "
            'at row 1') in msg
    assert "df['user'] = df['user'].astype(str)" in msg and 'np.' not in msg


def test_mixed_ids_fixed_as_the_message_says():
    fixed = BiasBaseline().fit(MIXED.assign(user=MIXED.user.astype(str)))
    assert sorted(fixed.user_bias.index) == ['1', '2']


# --- lesson 13: ratings BayesMF cannot learn from -----------------------------------------------

FOUR = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
Y4 = torch.tensor([1., 2., 3., 1.])
QUICK = dict(n_factors=2, n_samples=2, burn_in=1)

@pytest.mark.parametrize('x,y,n_users,n_items,expected', [
    (FOUR[:1], torch.tensor([4.]), 1, 1,
     'BayesMF.fit got 1 rating; it needs at least 2, with different values'),
    (FOUR, torch.full((4,), 3.), 2, 2,
     'all 4 ratings equal 3.0: there is nothing to learn beyond the mean'),
    (FOUR, Y4 * 1e30, 2, 2, 'ratings reach 3e+30 (they lie in [1e+30, 3e+30])'),
    (FOUR, Y4.double() + 1e5, 2, 2, 'the ratings lie far from 0 for their spread'),
], ids=['one-rating', 'all-equal', 'huge', 'far-from-0'])
@pytest.mark.parametrize('rating_range', [(1., 5.), None], ids=['range', 'no-range'])
def test_bayes_refuses_data_it_cannot_learn(x, y, n_users, n_items, expected, rating_range):
    with pytest.raises(ValueError) as e:
        BayesMF(rating_range=rating_range, **QUICK).fit(x, y, n_users, n_items)
    assert expected in str(e.value) and 'rating_range' not in str(e.value)


def test_bayes_cholesky_failure_is_a_clear_error():
    with pytest.raises(ValueError) as e:
        BayesMF(init_std=1e9, n_samples=2, burn_in=1).fit(FOUR, Y4, 2, 2)
    msg = str(e.value)
    assert ("the sampler's posterior precision matrix of some user or item vectors is not "
            'positive definite') in msg
    assert 'try a smaller init_std' in msg
    assert isinstance(e.value.__cause__, torch.linalg.LinAlgError)


def test_bayes_cholesky_failure_anywhere_in_fit(monkeypatch):
    def fails(*args, **kwargs):
        raise torch.linalg.LinAlgError('linalg.cholesky: not positive-definite.')
    monkeypatch.setattr(torch.linalg, 'cholesky', fails)
    with pytest.raises(ValueError) as e: BayesMF(**QUICK).fit(FOUR, Y4, 2, 2)
    assert 'not positive definite (linalg.cholesky: not positive-definite)' in str(e.value)


def test_bayes_fits_just_inside_the_limits():
    assert BayesMF(rating_range=None, **QUICK).fit(FOUR, Y4 * 1e5, 2, 2).predict(FOUR).shape == (4,)
    two = BayesMF(**QUICK).fit(FOUR[:2], torch.tensor([4., 3.]), 1, 2)
    assert two.predict(FOUR[:1]).shape == (1,)


# --- lesson 14: numba that cannot import, compile or run: RowAdamW, with one warning ------------

def tiny_fit(opt_func):
    "A 2-epoch fit of a small DotProductBias: (weights, history, name of the optimiser class used)."
    from collab_lessons.models import DotProductBias
    from collab_lessons.trainer import fit
    x, y = scale.synthetic_tensors(60, 40, 2000, seed=0)
    torch.manual_seed(0); model = DotProductBias(60, 40, 8)
    used = []
    def opt(m, lr, wd):
        o = opt_func(m, lr, wd); used.append(type(o).__name__); return o
    hist = fit(model, x[:1700], y[:1700], x[1700:], y[1700:], epochs=2, lr=1e-2, wd=0.1, bs=256,
               progress=False, opt_func=opt)
    return model.state_dict(), hist, used[0]


@pytest.fixture(scope='module')
def reference():
    "The torch row-wise optimiser's numbers, which the fallback must give."
    return tiny_fit(scale.rowwise_adamw)


@pytest.fixture
def fresh(monkeypatch):
    "A process in which numba has not been tried yet."
    monkeypatch.setattr(scale, '_COMPILED', {})
    monkeypatch.setattr(scale, '_NO_NUMBA', [])


def ours(caught): return [w for w in caught if issubclass(w.category, scale.NumbaFallbackWarning)]


def fused_fit_with_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        state, hist, used = tiny_fit(scale.fused_rowwise_adamw)
    return state, hist, used, ours(caught)


def assert_same_numbers(got, want):
    "Weights and losses within the tolerance of tests/test_scale_fused.py."
    (s1, h1, _), (s2, h2, _) = got, want
    for k in s2: assert (s1[k] - s2[k]).abs().max().item() < 1e-5, k
    for a, b in zip(h1, h2): assert abs(a['train_loss'] - b['train_loss']) < 1e-5


def assert_fell_back(reference, why):
    state, hist, used, caught = fused_fit_with_warnings()
    assert used == 'RowAdamW'
    assert len(caught) == 1, [str(w.message) for w in caught]
    msg = str(caught[0].message)
    assert why in msg and '\n' not in msg, msg
    assert 'so the torch optimiser RowAdamW runs instead: the same results, only slower' in msg
    assert_same_numbers((state, hist, used), reference)
    _, _, used, caught = fused_fit_with_warnings()          # later fits: the same, and no warning
    assert used == 'RowAdamW' and caught == []
    return msg


def test_working_numba_is_used_without_warning(fresh, reference):
    state, hist, used, caught = fused_fit_with_warnings()
    assert used == 'FusedRowAdamW' and caught == []
    assert_same_numbers((state, hist, used), reference)


class RaisingFinder(importlib.abc.MetaPathFinder):
    "`import numba` raises `exc`, as a broken install does."
    def __init__(self, exc): self.exc = exc
    def find_spec(self, name, path=None, target=None):
        if name == 'numba' or name.startswith('numba.'): raise self.exc
        return None


@pytest.mark.parametrize('exc,why', [
    (RuntimeError('numba needs NumPy 1.x\nsecond line'), 'RuntimeError: numba needs NumPy 1.x'),
    (AttributeError("module 'numpy' has no attribute 'long'"),
     "AttributeError: module 'numpy' has no attribute"),
    (ImportError('libtbb.so: cannot open shared object file'), 'ImportError: libtbb.so'),
], ids=['RuntimeError', 'AttributeError', 'ImportError'])
def test_numba_import_fails(fresh, reference, monkeypatch, exc, why):
    for name in [n for n in sys.modules if n == 'numba' or n.startswith('numba.')]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, 'meta_path', [RaisingFinder(exc)] + sys.meta_path)
    msg = assert_fell_back(reference, why)
    assert 'second line' not in msg and 'pip install --force-reinstall numba' in msg


def test_numba_not_installed(fresh, reference, monkeypatch):
    monkeypatch.setitem(sys.modules, 'numba', None)         # what `import numba` meets when absent
    msg = assert_fell_back(reference, 'ModuleNotFoundError')
    assert 'install numba (pip install numba)' in msg


@pytest.mark.parametrize('missing', ['numba.core', 'numba.extending'])
def test_numba_without_submodules(fresh, reference, monkeypatch, missing):
    import numba
    fake = types.ModuleType('numba')
    fake.config, fake.njit, fake.types = numba.config, numba.njit, numba.types
    monkeypatch.setitem(sys.modules, 'numba', fake)
    monkeypatch.setitem(sys.modules, missing, None)
    assert_fell_back(reference, f'ModuleNotFoundError: import of {missing} halted')


def test_numba_without_config(fresh, reference, monkeypatch):
    monkeypatch.setitem(sys.modules, 'numba', types.ModuleType('numba'))
    assert_fell_back(reference, "AttributeError: module 'numba' has no attribute 'config'")


def test_njit_fails_at_first_call(fresh, reference, monkeypatch):
    import numba
    from numba.core.errors import TypingError
    def fake_njit(f, **kwargs):
        def first_call(*args):
            raise TypingError('Failed in nopython mode pipeline (step: nopython frontend)\ndetails')
        return first_call
    monkeypatch.setattr(numba, 'njit', fake_njit)
    assert_fell_back(reference, 'TypingError: Failed in nopython mode pipeline (step: nopython')


def test_fused_optimiser_built_directly(fresh, reference, monkeypatch):
    "A FusedRowAdamW built directly still trains (with torch's loops) when its kernels cannot run."
    monkeypatch.setitem(sys.modules, 'numba', None)
    def direct(m, lr, wd):
        tables = [e for e in scale.sparse_embeddings(m).modules()
                  if isinstance(e, torch.nn.Embedding)]
        return scale.FusedRowAdamW(scale.param_groups(m, wd), lr=lr, weight_decay=wd,
                                   embeddings=tables)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        got = tiny_fit(direct)
    assert len(ours(caught)) == 1
    assert_same_numbers(got, reference)


DISABLED_JIT = r'''
import json, sys, warnings
sys.path.insert(0, sys.argv[1])
from test_bad_input import tiny_fit, ours
from collab_lessons import scale
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    fused = tiny_fit(scale.fused_rowwise_adamw)
    touch = tiny_fit(lambda m, lr, wd: scale.fused_rowwise_adamw(m, lr, wd, touch_wd=True))
ref = tiny_fit(scale.rowwise_adamw)
print(json.dumps(dict(used=[fused[2], touch[2]],
                      diff=max((fused[0][k] - ref[0][k]).abs().max().item() for k in ref[0]),
                      losses=[h['train_loss'] for h in fused[1]],
                      ref_losses=[h['train_loss'] for h in ref[1]],
                      warnings=[str(w.message) for w in ours(caught)])))
'''

def test_numba_disable_jit(tmp_path):
    script = tmp_path/'disabled.py'
    script.write_text(DISABLED_JIT)
    env = dict(os.environ, NUMBA_DISABLE_JIT='1')
    res = subprocess.run([sys.executable, str(script), os.path.dirname(__file__)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out['used'] == ['RowAdamW', 'RowAdamW'] and out['diff'] < 1e-5
    assert all(abs(a - b) < 1e-5 for a, b in zip(out['losses'], out['ref_losses']))
    assert len(out['warnings']) == 1, out['warnings']
    assert "RuntimeError: NUMBA_DISABLE_JIT=1 turns numba's compiler off" in out['warnings'][0]
    assert 'unset NUMBA_DISABLE_JIT' in out['warnings'][0]
