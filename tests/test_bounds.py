"Bounds on arguments that used to overflow, hang or pass silently: each refused with a plain message."
import shutil, warnings
import numpy as np, pandas as pd, pytest, torch
from collab_lessons import data, store, trainer
from collab_lessons.bayes import BayesMF
from collab_lessons.models import DotProductBias
from collab_lessons.rankings import BPR, Ease, Rank, ease_weights

RATINGS = data.synthetic_ratings(n_users=60, n_movies=40, n_factors=3, n_ratings=1200, seed=0)[0]
X = torch.tensor(RATINGS[['user', 'movie']].to_numpy())
Y = torch.tensor(RATINGS.rating.to_numpy())


# --- lam of EASE: above 1e30 float32 overflows and every score is NaN --------------------------

@pytest.mark.parametrize('make', [Ease, Rank, lambda lam: ease_weights(torch.eye(3), lam)],
                         ids=['Ease', 'Rank', 'ease_weights'])
def test_lam_above_1e30_refused(make):
    with pytest.raises(ValueError) as e: make(lam=1e39)
    msg = str(e.value)
    assert 'lam must be at most 1e+30, got 1e+39' in msg
    assert 'overflows' in msg and 'NaN' in msg and '10 to 10,000' in msg


def test_lam_at_1e30_still_gives_finite_scores():
    model = Ease(lam=1e30).fit(X, 60, 40)
    assert torch.isfinite(model.scores(torch.arange(5))).all()


# --- epochs of the lean trainer: 10**9 would run for ever ---------------------------------------

def test_trainer_epochs_bounded():
    model = DotProductBias(60, 40, 3)
    with pytest.raises(ValueError) as e: trainer.fit(model, X, Y.float(), epochs=10**9, progress=False)
    assert str(e.value) == 'epochs must be an integer in [1, 100000], got 1000000000.'


# --- seeds: 2**63 and above overflow torch's int64 -----------------------------------------------

SEED_CALLS = {
    'random_split': lambda s: data.random_split(RATINGS, seed=s),
    'synthetic_ratings': lambda s: data.synthetic_ratings(10, 10, 2, 20, seed=s),
    'BPR.fit': lambda s: BPR(epochs=1).fit(X, 60, 40, seed=s),
    'Ease.fit': lambda s: Ease().fit(X, 60, 40, seed=s),
    'BayesMF': lambda s: BayesMF(seed=s),
    'trainer.fit': lambda s: trainer.fit(DotProductBias(60, 40, 3), X, Y.float(), epochs=1, seed=s,
                                         progress=False),
}

@pytest.mark.parametrize('seed', [2**63, 2**64, -1])
@pytest.mark.parametrize('name', list(SEED_CALLS))
def test_seed_out_of_range(name, seed):
    with pytest.raises(ValueError) as e: SEED_CALLS[name](seed)
    assert str(e.value) == f'seed must be an integer in [0, 9223372036854775807], got {seed}.'


@pytest.mark.parametrize('name', ['random_split', 'synthetic_ratings', 'BayesMF'])
def test_largest_seed_works(name):
    SEED_CALLS[name](2**63 - 1)


def test_bayes_largest_seed_with_chains_fits():
    m = BayesMF(n_factors=2, n_samples=2, burn_in=1, n_chains=2, seed=2**63 - 1).fit(X, Y, 60, 40)
    assert torch.isfinite(m.predict(X[:5])).all()


# --- rating_range of check_ratings ----------------------------------------------------------------

WANT = 'rating_range must be (low, high), two finite numbers with low <= high, e.g. (1, 5)'

@pytest.mark.parametrize('rng,err,tail', [
    ((np.nan, 5), ValueError, 'got (nan, 5): NaN and infinity are not allowed.'),
    ((1, np.inf), ValueError, 'got (1, inf): NaN and infinity are not allowed.'),
    ('1-5', TypeError, "got '1-5'."),
    ((1, 2, 3), TypeError, 'got (1, 2, 3).'),
    (5, TypeError, 'got 5.'),
    ((1, '5'), TypeError, "got (1, '5'), and '5' is not a number."),
    ((5, 1), ValueError, 'got (5, 1): swap them, rating_range=(1, 5).'),
    ((np.int64(5), np.int64(1)), ValueError, 'got (5, 1): swap them, rating_range=(1, 5).'),
], ids=['nan', 'inf', 'str', 'three', 'scalar', 'str-item', 'reversed', 'numpy'])
def test_bad_rating_range(rng, err, tail):
    with pytest.raises(err) as e: store.check_ratings(RATINGS, rating_range=rng)
    assert str(e.value) == f'{WANT}; {tail}'
    assert 'np.' not in str(e.value)


@pytest.mark.parametrize('rng', [(1, 5), [1., 5.], np.array([1, 5]), (0, 10)])
def test_good_rating_range(rng):
    assert store.check_ratings(RATINGS, rating_range=rng) is RATINGS


def test_rating_range_message_keeps_plain_bounds():
    with pytest.raises(ValueError) as e: store.check_ratings(RATINGS, rating_range=(np.int64(2), 4))
    assert 'ratings outside [2, 4]' in str(e.value)


# --- BayesMF on ratings that vary too little for its priors ---------------------------------------

QUICK = dict(n_factors=2, n_samples=2, burn_in=1)

@pytest.mark.parametrize('scale', [1e-3, 1e-6])
def test_bayes_refuses_tiny_spread(scale):
    y = Y * scale
    with pytest.raises(ValueError) as e: BayesMF(rating_range=None, **QUICK).fit(X, y, 60, 40)
    msg = str(e.value)
    assert msg.startswith('the ratings vary too little for BayesMF (standard deviation ')
    assert 'below 0.05' in msg and 'Standardise them: (y - ' in msg and 'map the predictions back' in msg


def test_bayes_standardised_as_told_fits():
    y = Y * 1e-3
    z = (y - y.mean()) / y.std()
    assert torch.isfinite(BayesMF(rating_range=None, **QUICK).fit(X, z, 60, 40).predict(X)).all()


def test_bayes_star_ratings_pass():
    "ML-100K-like stars (1..5, sd about 1.1) and the synthetic ratings (sd about 0.7) still fit."
    rng = np.random.default_rng(0)
    stars = torch.tensor(rng.choice([1., 2., 3., 4., 5.], len(X), p=[.06, .11, .27, .34, .22]))
    assert 1 < float(stars.std()) < 1.3
    for y in (stars, Y):
        assert BayesMF(**QUICK).fit(X, y, 60, 40).predict(X[:3]).shape == (3,)


# --- u.item and u.user from a folder the user names ------------------------------------------------

@pytest.fixture(scope='module')
def ml_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp('ml')
    for n in store.CANONICAL_FILES: shutil.copy(store.ml100k_path()/n, d/n)
    return d


def test_edited_u_item_refused(ml_dir, tmp_path):
    for n in store.CANONICAL_FILES: shutil.copy(ml_dir/n, tmp_path/n)
    lines = (tmp_path/'u.item').read_bytes().splitlines(keepends=True)
    lines[0] = lines[0].replace(b'Toy Story', b'Toy Stories')
    (tmp_path/'u.item').write_bytes(b''.join(lines))
    for load in (data.load_movies, data.load_ratings):
        with pytest.raises(ValueError) as e: load(tmp_path)
        msg = str(e.value)
        assert "u.item is not MovieLens-100K's u.item: it has the layout ml100k_path writes but its " \
               'SHA-256 differs from the pinned' in msg
        assert 'Unzip ml-100k.zip again there' in msg


def test_grouplens_layout_u_item_accepted(ml_dir, tmp_path):
    "GroupLens' own u.item has release dates and IMDb links and no pinned hash: checked for layout."
    for n in store.CANONICAL_FILES: shutil.copy(ml_dir/n, tmp_path/n)
    lines = (tmp_path/'u.item').read_bytes().splitlines(keepends=True)
    lines = [l.replace(b'||||', b'|01-Jan-1995||http://us.imdb.com/x|', 1) for l in lines]
    (tmp_path/'u.item').write_bytes(b''.join(lines))
    assert len(data.load_movies(tmp_path)) == 1682


def test_untouched_folder_served(ml_dir):
    assert len(data.load_movies(ml_dir)) == 1682 and len(data.load_users(ml_dir)) == 943
