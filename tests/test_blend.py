"""`ensembles.Blend` and `Recommender.fit(model='blend')` on small synthetic data: fit and recommend, a save/load round
trip with the same recommendations, zero weights ranking exactly like `Rank`, seeded determinism, and clear errors for
too many users, bad hyper-parameters and tampered weights. Runs in seconds."""
import warnings
import numpy as np
import pandas as pd
import pytest
import torch
from collab_lessons.data import synthetic_ratings
from collab_lessons.ensembles import Blend, zscore_rows
from collab_lessons.rankings import Rank
from collab_lessons.recommender import Recommender, MODELS
from collab_lessons.saving import load_recommender
from collab_lessons.trainer import encode

torch.set_num_threads(1)
SMALL = dict(n_factors=8, sweeps=4)          # a quick iALS; the other settings are the lesson's


@pytest.fixture(scope='module')
def ratings():
    df, _ = synthetic_ratings(n_users=60, n_movies=40, n_factors=3, n_ratings=1200, seed=0)
    return df.assign(rating=df.rating.round())


@pytest.fixture(scope='module')
def encoded(ratings):
    x, y, vocab = encode(ratings)
    return x, y, len(vocab['user']), len(vocab['item'])


@pytest.fixture(scope='module')
def rec(ratings):
    return Recommender.fit(ratings, model='blend', titles={m: f'movie {m}' for m in ratings.movie.unique()}, **SMALL)


def order(scores, seen):
    "Each user's items, best first, seen items last (stable on ties)."
    return torch.as_tensor(scores).double().masked_fill(seen, -np.inf).argsort(dim=1, descending=True, stable=True)


def test_registered():
    kind = MODELS['blend']
    assert kind.cls is Blend and kind.implicit and 'iALS' in kind.summary


def test_fit_recommend_similar(rec, ratings):
    assert rec.config['model'] == 'blend' and rec.config['hyper']['user_weight'] == 2.0
    assert rec.config['hyper']['n_factors'] == 8
    top = rec.recommend(1, n=5)
    assert len(top) == 5 and top.score.is_monotonic_decreasing and top.title.str.startswith('movie').all()
    assert not set(ratings.movie[ratings.user == 1]) & set(top.item), 'recommend leaves out what user 1 rated'
    row = pd.Series(rec.scores([1])[0], index=rec.items).drop(list(ratings.movie[ratings.user == 1]))
    assert top.item.tolist() == row.sort_values(ascending=False, kind='stable').index[:5].tolist()
    s = rec.scores([1, 2])
    assert s.dtype == np.float64 and s.shape == (2, len(rec.items)) and np.isfinite(s).all()
    assert rec.recommend('stranger', n=3).item.tolist() == ratings.movie.value_counts().index[:3].tolist()
    assert len(rec.similar(rec.items[0], n=3, min_ratings=0)) == 3
    with pytest.raises(ValueError, match='needs a model with item biases'): rec.biases()


def test_scores_are_zscores_over_unseen_items(encoded):
    x, y, nu, ni = encoded
    b = Blend(user_weight=0., ials_weight=1., **SMALL).fit(x, nu, ni, weight=y)
    seen = b.rank.X.to_dense() > 0
    s = b.scores(torch.arange(nu))
    parts = [zscore_rows(m.scores(torch.arange(nu)), seen) for m in (b.rank, b.ials)]
    torch.testing.assert_close(s, parts[0] + parts[1], rtol=0, atol=1e-12)
    unseen = torch.where(seen, 0., parts[0])
    torch.testing.assert_close(unseen.sum(1), torch.zeros(nu, dtype=torch.float64), rtol=0, atol=1e-9)


def test_save_load_round_trip(rec, ratings, tmp_path):
    loaded = Recommender.load(rec.save(tmp_path/'blend'))
    assert isinstance(loaded.model, Blend) and loaded.config == rec.config
    users = list(ratings.user.unique()[:20]) + ['stranger']
    np.testing.assert_array_equal(loaded.scores(users), rec.scores(users))
    for u in users[:5]: pd.testing.assert_frame_equal(loaded.recommend(u), rec.recommend(u))
    pd.testing.assert_frame_equal(loaded.similar(rec.items[3], min_ratings=0), rec.similar(rec.items[3], min_ratings=0))


def test_state_round_trip_without_zero_weight_parts(encoded):
    x, y, nu, ni = encoded
    b = Blend(ials_weight=0., **SMALL).fit(x, nu, ni, weight=y)
    st = b.state()
    assert set(st['tensors']) == {'B', 'indices', 'values', 'user_B'} and b.ials.n_users is None, 'iALS is not fitted'
    assert torch.equal(Blend.from_state(st).scores(torch.arange(nu)), b.scores(torch.arange(nu)))


def test_zero_weights_rank_like_rank(encoded):
    x, y, nu, ni = encoded
    users = torch.arange(nu)
    b = Blend(user_weight=0, ials_weight=0).fit(x, nu, ni, weight=y)
    r = Rank().fit(x, nu, ni, weight=y)
    seen = r.X.to_dense() > 0
    torch.testing.assert_close(b.scores(users), zscore_rows(r.scores(users), seen), rtol=0, atol=1e-12)
    assert torch.equal(order(b.scores(users), seen), order(r.scores(users), seen))


def test_zero_weights_recommend_like_rank(ratings):
    blend0 = Recommender.fit(ratings, model='blend', user_weight=0, ials_weight=0)
    rank = Recommender.fit(ratings, model='rank')
    for u in ratings.user.unique()[:15]:
        assert blend0.recommend(u).item.tolist() == rank.recommend(u).item.tolist()


def test_seeded_fits_are_identical(encoded):
    x, y, nu, ni = encoded
    users = torch.arange(nu)
    a, b = (Blend(**SMALL).fit(x, nu, ni, weight=y, seed=3).scores(users) for _ in range(2))
    assert torch.equal(a, b)
    c = Blend(**SMALL).fit(x, nu, ni, weight=y, seed=4).scores(users)
    assert not torch.equal(a, c), "the seed sets iALS's start"


def test_too_many_users(encoded, ratings):
    x, y, nu, ni = encoded
    with pytest.raises(ValueError, match=r"60 users need 0\.0 GB .* over max_users=50\. Use model='rank'"):
        Blend(max_users=50).fit(x, nu, ni, weight=y)
    with pytest.raises(ValueError, match='user_weight=0 to blend without user-EASE'):
        Recommender.fit(ratings, model='blend', max_users=10)
    assert Blend(user_weight=0, max_users=10, **SMALL).fit(x, nu, ni, weight=y).n_users == nu, \
        'without user-EASE there is no users x users matrix to refuse'


def test_default_model_stays_ease(ratings):
    clicks = ratings[['user', 'movie']]
    assert Recommender.fit(clicks, rating=None).config['model'] == 'ease'


@pytest.mark.parametrize('kwargs,message', [
    (dict(user_weight=-1), 'user_weight must be a finite number >= 0'),
    (dict(ials_weight=float('inf')), 'ials_weight must be a finite number'),
    (dict(user_lam=0), 'user_lam must be a finite number > 0'),
    (dict(ials_lam=-2.), 'ials_lam must be a finite number > 0'),
    (dict(lam=0), 'lam must be a finite number > 0'),
    (dict(slope=-1), 'slope must be a finite number >= 0'),
    (dict(alpha=-1), 'alpha must be a finite number >= 0'),
    (dict(max_users=0), 'max_users must be an integer >= 1'),
    (dict(sweeps=0), 'sweeps must be an integer >= 1'),
])
def test_bad_hyper_parameters(kwargs, message, ratings):
    with pytest.raises(ValueError, match=message.replace('(', r'\(')): Blend(**kwargs)
    with pytest.raises(ValueError, match=message.replace('(', r'\(')): Recommender.fit(ratings, model='blend', **kwargs)


def test_bad_types_and_unknown_hyper_parameters(ratings):
    with pytest.raises(TypeError, match='n_factors must be an integer'): Blend(n_factors=2.5)
    with pytest.raises(TypeError, match="model='blend' takes no epochs"): Recommender.fit(ratings, model='blend', epochs=3)


def test_unfitted_and_bad_states(encoded):
    x, y, nu, ni = encoded
    with pytest.raises(RuntimeError, match='Blend is not fitted'): Blend().scores(torch.tensor([0]))
    with pytest.raises(RuntimeError, match='Blend is not fitted'): Blend().state()
    st = Blend(**SMALL).fit(x, nu, ni, weight=y).state()
    bad = lambda **ts: {'config': st['config'], 'tensors': st['tensors'] | ts}
    with pytest.raises(ValueError, match=r"tensors\['user_B'\] has shape \(5, 5\)"):
        Blend.from_state(bad(user_B=torch.zeros(5, 5)))
    with pytest.raises(ValueError, match=r"tensors\['user_factors'\] has shape"):
        Blend.from_state(bad(user_factors=torch.zeros(nu, 3, dtype=torch.float64)))
    with pytest.raises(KeyError, match='lacks'):
        Blend.from_state({'config': {k: v for k, v in st['config'].items() if k != 'user_lam'}, 'tensors': st['tensors']})
    with pytest.raises(ValueError, match="of model 'rank', not 'blend'"):
        Blend.from_state(Rank().fit(x, nu, ni).state())


def test_tampered_ials_factors_are_refused(rec, tmp_path):
    "Weights re-signed after a change still have to solve the models' equations."
    import hashlib, io, json
    from collab_lessons.saving import CONFIG, WEIGHTS, _meta_sha256
    d = rec.save(tmp_path/'b')
    tensors = torch.load(d/WEIGHTS, weights_only=True)
    tensors['model.item_factors'] = tensors['model.item_factors'] * 1.01
    buf = io.BytesIO(); torch.save(tensors, buf); (d/WEIGHTS).write_bytes(buf.getvalue())
    meta = json.loads((d/CONFIG).read_text())
    meta['weights_sha256'] = hashlib.sha256(buf.getvalue()).hexdigest()
    meta['meta_sha256'] = _meta_sha256(meta)
    (d/CONFIG).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match='iALS item factors do not solve iALS'): load_recommender(d)
