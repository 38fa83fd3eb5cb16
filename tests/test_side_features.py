"""Side features in the Bayesian model (lesson 13): what they learn on planted data, and clear errors for features that
do not fit the ratings. Small synthetic data: the file runs in seconds."""
import numpy as np
import pandas as pd
import pytest
import torch
from collab_lessons.bayes import BayesMF, feature_matrix

torch.set_num_threads(1)
SHORT = dict(n_factors=2, n_samples=40, burn_in=10)


def planted(n_users=300, n_items=60, per_user=3, seed=0):
    "Ratings driven by a user group (+1 or -1 star) that each user's few ratings barely show, plus the group as a feature."
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n_users)
    items = np.stack([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    u, i = np.repeat(np.arange(n_users), per_user), items.ravel()
    r = 3 + np.where(group[u] == 1, 1., -1.) + rng.normal(0, 0.8, len(u))
    df = pd.DataFrame(dict(user=u, item=i, rating=r))
    feats = pd.DataFrame({'group': np.where(group == 1, 'a', 'b')}, index=pd.RangeIndex(n_users, name='user'))
    return df, feats


def fit_predict(df, test, **kw):
    x = torch.tensor(df[['user', 'item']].to_numpy())
    m = BayesMF(implicit=False, rating_range=None, **SHORT).fit(x, torch.tensor(df.rating.to_numpy()), 300, 60, **kw)
    return m.predict(torch.tensor(test[['user', 'item']].to_numpy())).numpy()


def test_a_user_feature_carries_what_few_ratings_cannot():
    df, feats = planted()
    first = df.groupby('user').head(1)                       # train on one rating per user, test on the others
    test = df.drop(first.index)
    rmse = lambda p: float(np.sqrt(((p - test.rating.to_numpy()) ** 2).mean()))
    without = rmse(fit_predict(first, test))
    with_group = rmse(fit_predict(first, test, user_features=feature_matrix(feats, range(300))))
    assert with_group < without - 0.1, (with_group, without)


def test_side_features_are_seeded():
    df, feats = planted()
    F = feature_matrix(feats, range(300))
    a, b = (fit_predict(df, df, user_features=F) for _ in range(2))
    assert np.array_equal(a, b)


def test_feature_matrix_numbers_as_given_and_categories_one_hot():
    f = pd.DataFrame({'age': [0.5, -1.0, 2.0], 'job': ['x', 'y', 'x']}, index=[10, 20, 30])
    F = feature_matrix(f, [30, 10])
    assert F.dtype == torch.float64
    assert F.tolist() == [[2.0, 1.0, 0.0], [0.5, 1.0, 0.0]]       # age, job=x, job=y (from the whole table), in the order asked


@pytest.mark.parametrize('features, ids, error, message', [
    (pd.DataFrame({'g': ['a']}, index=[1]), [1, 2], ValueError, 'no row for 1 user id'),
    (pd.DataFrame({'g': ['a', 'b']}, index=[1, 1]), [1], ValueError, 'repeated ids'),
    (pd.DataFrame({'g': ['a', None]}, index=[1, 2]), [1, 2], ValueError, "column 'g' has missing values"),
    (pd.DataFrame({'age': [30, 40]}, index=[1, 2]), [1, 2], ValueError, "column 'age' reaches 40"),
    (np.zeros((2, 1)), [0, 1], TypeError, 'must be a pandas DataFrame'),
])
def test_feature_matrix_refuses_what_does_not_fit(features, ids, error, message):
    with pytest.raises(error, match=message): feature_matrix(features, ids)


@pytest.mark.parametrize('features, error, message', [
    (torch.ones(5, 2), ValueError, r'has shape \(5, 2\): one row per user index \(4 rows\)'),
    (torch.ones(4), ValueError, r'has shape \(4,\)'),
    (torch.ones(4, 0), ValueError, 'has no columns'),
    (torch.full((4, 1), float('nan')), ValueError, 'NaN or infinite'),
    (torch.full((4, 1), 30.), ValueError, 'a few units'),
    ([[1.0]] * 4, TypeError, 'build it with feature_matrix'),
])
def test_bayes_refuses_bad_feature_tensors(features, error, message):
    x, y = torch.tensor([[0, 0], [1, 1], [2, 0], [3, 1]]), torch.tensor([1., 2., 4., 5.])
    with pytest.raises(error, match=message): BayesMF(**SHORT).fit(x, y, 4, 2, user_features=features)


def test_command_line_reads_feature_files(tmp_path, capsys):
    from collab_lessons.cli import main
    from collab_lessons.recommender import Recommender
    df, feats = planted(n_users=40, per_user=4)
    df.to_csv(tmp_path/'r.csv', index=False); feats.to_csv(tmp_path/'users.csv')
    (tmp_path/'one.csv').write_text('user\n1\n'); (tmp_path/'empty.csv').write_text('')
    args = [str(tmp_path/'r.csv'), '--item-col', 'item', '--valid-pct', '0', '--out', str(tmp_path/'m')]
    assert main(args + ['--model', 'bayes', '--user-features', str(tmp_path/'users.csv')]) == 0
    assert Recommender.load(tmp_path/'m').config['side_features'] == {'user': ['group']}
    capsys.readouterr()
    for extra, message in [(['--model', 'dot', '--user-features', 'users.csv'], '--model dot takes no --user-features'),
                           (['--model', 'bayes', '--user-features', 'none.csv'], 'no such file'),
                           (['--model', 'bayes', '--item-features', 'one.csv'], 'has one column'),
                           (['--model', 'bayes', '--user-features', 'empty.csv'], 'is empty')]:
        extra = [str(tmp_path/a) if a.endswith('.csv') else a for a in extra]
        assert main(args + extra) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err and 'Traceback' not in err, err


def test_command_line_on_movielens_uses_its_movie_features(tmp_path, capsys, monkeypatch):
    from collab_lessons import cli
    from collab_lessons.data import load_ratings
    from collab_lessons.recommender import Recommender
    monkeypatch.setattr(cli, 'load_ratings', lambda: load_ratings().head(500))    # a slice, to stay fast
    assert cli.main(['--model', 'bayes', '--valid-pct', '0', '--out', str(tmp_path/'m'), '-n', '1']) == 0
    assert "side information: the movies' genres" in capsys.readouterr().out
    assert Recommender.load(tmp_path/'m').config['side_features']['item'][:2] == ['unknown', 'Action']
