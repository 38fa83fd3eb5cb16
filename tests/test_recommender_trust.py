"""The `Recommender` and `collab-recommend` on input a careful user would not send: each case gets a clear error or the
documented result. Small synthetic data, so the whole file runs in seconds."""
import contextlib, hashlib, io, json, os, subprocess, sys, threading, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
import torch
from collab_lessons.data import synthetic_ratings
from collab_lessons.recommender import Recommender
from collab_lessons.saving import CONFIG, WEIGHTS, _meta_sha256
from collab_lessons.cli import main

torch.set_num_threads(1)


@pytest.fixture(scope='module')
def ratings():
    df, _ = synthetic_ratings(n_users=60, n_movies=40, n_factors=3, n_ratings=1200, seed=0)
    return df.assign(rating=df.rating.round())


@pytest.fixture(scope='module')
def models(ratings, tmp_path_factory):
    "One saved model of each kind (short training), and its directory."
    d = tmp_path_factory.mktemp('models')
    fits = dict(dot=dict(epochs=2), nn=dict(epochs=2), bayes=dict(n_factors=3, n_samples=4, burn_in=2),
                ease={}, rank={}, bpr=dict(epochs=2))
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for name, h in fits.items():
            rec = Recommender.fit(ratings, model=name, **h)
            out[name] = (rec, rec.save(d/name))
    return out


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: status = main([str(a) for a in argv])
        except SystemExit as e: status = e.code
    return status, out.getvalue(), err.getvalue()


def rewrite(d, meta=None, tensors=None):
    "Replace a saved model's JSON and/or tensors, re-signing both hashes (only the content can give it away)."
    meta = json.loads((d/CONFIG).read_text()) if meta is None else meta
    if tensors is not None:
        buf = io.BytesIO(); torch.save(tensors, buf); data = buf.getvalue()
        (d/WEIGHTS).write_bytes(data)
        meta['weights_sha256'] = hashlib.sha256(data).hexdigest()
        meta['tensors'] = {k: [str(v.dtype).removeprefix('torch.'), list(v.shape)] for k, v in tensors.items()}
    meta['meta_sha256'] = _meta_sha256(meta)
    (d/CONFIG).write_text(json.dumps(meta))


def copy_of(models, name, tmp_path):
    import shutil
    d = tmp_path/f'{name}-copy'; shutil.copytree(models[name][1], d); return d


# ---- ids of the other type -------------------------------------------------------------------------------------
def test_int_and_str_ids_are_one_user(ratings):
    as_str = ratings.astype({'user': str, 'movie': str})
    for train, other in ((as_str, 7), (ratings, '7')):
        rec = Recommender.fit(train, model='ease')
        same = rec.recommend(str(other) if isinstance(other, int) else int(other)).item.tolist()
        assert rec.recommend(other).item.tolist() == same
        assert rec.recommend(other).item.tolist() != rec.recommend(999999).item.tolist()
        assert np.isfinite(rec.predict(pd.DataFrame({'user': [other], 'movie': [train.movie.iloc[0]]}))).all()


# ---- repeated pairs ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize('model', ['rank', 'bpr', 'dot', 'bayes'])
def test_repeated_pairs_do_not_depend_on_row_order(ratings, model):
    extra = ratings.iloc[:50].assign(rating=lambda d: 6 - d.rating)          # the same pairs again, other ratings
    h = dict(bpr=dict(epochs=2), dot=dict(epochs=2), bayes=dict(n_factors=3, n_samples=4, burn_in=2)).get(model, {})
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        a = Recommender.fit(pd.concat([ratings, extra]), model=model, **h)
        b = Recommender.fit(pd.concat([extra, ratings]), model=model, **h)
    probe = ratings[['user', 'movie']].iloc[:100]
    np.testing.assert_allclose(a.predict(probe), b.predict(probe), rtol=1e-5, atol=1e-6)


# ---- degenerate scores -------------------------------------------------------------------------------------------
def test_ease_with_huge_lam_falls_back_to_popularity(ratings):
    rec = Recommender.fit(ratings, model='ease', lam=1e30)
    popular = rec.recommend('nobody', n=3).item.tolist()
    seen = set(ratings.movie[ratings.user == 1])
    assert rec.recommend(1, n=3).item.tolist() == [i for i in rec.recommend('nobody', n=40).item if i not in seen][:3]
    assert popular == ratings.movie.value_counts().index[:3].tolist()


def test_user_whose_items_nobody_else_chose_gets_popularity(ratings):
    lonely = pd.DataFrame({'user': [1000, 1000], 'movie': [5000, 5001], 'rating': [5., 4.]})
    rec = Recommender.fit(pd.concat([ratings, lonely]), model='ease')
    top = rec.recommend(1000, n=3).item.tolist()
    assert top == [i for i in rec.recommend('nobody', n=5).item if i not in (5000, 5001)][:3]


@pytest.mark.parametrize('fill', [0., float('nan')])
def test_similar_to_an_item_without_a_vector(models, fill):
    rec = models['bpr'][0]
    rec.model.Q = rec.model.Q.clone(); rec.model.Q[0] = fill
    try:
        with pytest.warns(UserWarning, match='zero or non-finite vector'):
            out = rec.similar(rec.items[0])
        assert len(out) == 0 and list(out.columns) == ['item', 'similarity', 'n_ratings']
        assert rec.items[0] not in set(rec.similar(rec.items[1], min_ratings=0).item)
    finally: rec.model.Q[0] = 0 if fill != fill else rec.model.Q[0]


# ---- saved files -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', ['dot', 'nn', 'bayes', 'ease', 'rank', 'bpr'])
@pytest.mark.parametrize('damage', ['nan', 'inf', 'int64'])
def test_damaged_tensors_are_refused(models, tmp_path, name, damage):
    d = copy_of(models, name, tmp_path)
    tensors = torch.load(d/WEIGHTS, weights_only=True)
    key = next(k for k, v in tensors.items() if k.startswith('model.') and v.is_floating_point() and v.numel())
    t = tensors[key].clone()
    if damage == 'int64': t = t.round().long()
    else: t.view(-1)[0] = float(damage)
    tensors[key] = t
    rewrite(d, tensors=tensors)
    with pytest.raises(ValueError, match='NaN or infinite|not floating point'):
        Recommender.load(d)


def test_ease_weights_in_a_rank_model_are_refused(models, tmp_path):
    d = copy_of(models, 'rank', tmp_path)
    tensors = torch.load(d/WEIGHTS, weights_only=True)
    tensors['model.B'] = torch.load(models['ease'][1]/WEIGHTS, weights_only=True)['model.B']
    rewrite(d, tensors=tensors)
    with pytest.raises(ValueError, match='do not solve EASE'): Recommender.load(d)


def test_edited_json_is_refused(models, tmp_path):
    d = copy_of(models, 'dot', tmp_path)
    meta = json.loads((d/CONFIG).read_text())
    meta['items'] = meta['items'][::-1]
    (d/CONFIG).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match='does not match the SHA-256 recorded in it'): Recommender.load(d)


def test_deeply_nested_json_is_refused(models, tmp_path):
    d = copy_of(models, 'dot', tmp_path)
    (d/CONFIG).write_text('[' * 100_000 + ']' * 100_000)
    with pytest.raises(ValueError, match='recommender.json'): Recommender.load(d)


def test_load_while_another_process_saves(models, tmp_path):
    rec = models['dot'][0]
    target = rec.save(tmp_path/'busy')
    stop, errors = threading.Event(), []
    def writer():
        while not stop.is_set(): rec.save(target)
    t = threading.Thread(target=writer); t.start()
    try:
        for _ in range(100):
            try: Recommender.load(target)
            except Exception as e: errors.append(repr(e))
    finally: stop.set(); t.join()
    assert not errors, errors[:3]


def test_save_to_an_unwritable_place(models):
    with pytest.raises(OSError, match='cannot save the model to /proc/x|not writable|cannot write'):
        models['dot'][0].save('/proc/x')


# ---- bounds ------------------------------------------------------------------------------------------------------
def test_n_factors_checked_against_memory(ratings):
    with pytest.raises(ValueError, match=r'n_factors=1,099,511,627,776 needs about .* GB'):
        Recommender.fit(ratings, n_factors=2**40)


@pytest.mark.parametrize('data,message', [
    (pd.DataFrame({'user': [1], 'movie': [1], 'rating': [4.]}), '1 rating, all 4'),
    (pd.DataFrame({'user': [1, 2, 3], 'movie': [1, 2, 1], 'rating': [3.] * 3}), '3 ratings, all 3'),
])
def test_bayes_checks_its_data(data, message):
    with pytest.raises(ValueError, match=message): Recommender.fit(data, model='bayes')


# ---- the command line --------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def headerless(ratings, tmp_path_factory):
    f = tmp_path_factory.mktemp('csv')/'u.tsv'
    ratings.assign(ts=1).to_csv(f, sep='\t', header=False, index=False)
    return f


def test_headerless_file_needs_no_header_flag(headerless, ratings, tmp_path):
    status, out, err = run(headerless, '--sep', '\\t', '--out', tmp_path/'m')
    assert status == 1 and '--no-header' in err and len(err.strip().splitlines()) == 1
    first = pd.read_csv(headerless, sep='\t', header=None, dtype=str).iloc[0, :3].tolist()
    status, out, err = run(headerless, '--sep', '\\t', '--user-col', first[0], '--item-col', first[1],
                           '--rating-col', first[2], '--out', tmp_path/'m')
    assert status == 1 and 'is a number' in err and '--no-header' in err          # never eats the first row
    status, out, err = run(headerless, '--sep', '\\t', '--no-header', '--out', tmp_path/'m', '--epochs', '1')
    assert status == 0, err
    assert f'{len(ratings):,} ratings' in out


def test_load_recommends_without_training(headerless, tmp_path):
    run(headerless, '--sep', '\\t', '--no-header', '--out', tmp_path/'m', '--epochs', '1', '--valid-pct', '0')
    trained = Recommender.load(tmp_path/'m')
    status, out, err = run('--load', tmp_path/'m', '--for-user', trained.users[0], '-n', '3')
    assert status == 0, err
    assert 'training on' not in out and f'top 3 for user {trained.users[0]}:' in out and 'unknown user' not in out
    assert 'takes no --epochs' in run('--load', tmp_path/'m', '--for-user', '1', '--epochs', '2')[2]
    assert '--for-user' in run('--load', tmp_path/'m')[2]


def test_help_has_examples():
    status, out, err = run('--help')
    assert status == 0 and 'examples:' in out and '--load' in out and '--no-header' in out


def test_all_missing_columns_in_one_message(ratings, tmp_path):
    f = tmp_path/'r.csv'; ratings.rename(columns={'user': 'u', 'movie': 'm'}).to_csv(f, index=False)
    status, out, err = run(f, '--out', tmp_path/'x')
    assert status == 1 and "'user' (--user-col)" in err and "'movie' (--item-col)" in err
    assert 'None' not in err


def test_messages_speak_the_command_line(ratings, tmp_path):
    f = tmp_path/'r.csv'; ratings.assign(rating='x').to_csv(f, index=False)
    status, out, err = run(f, '--out', tmp_path/'x')
    assert status == 1 and 'line 2' in err and '--rating-col' in err and 'pd.' not in err and 'df[' not in err
    g = tmp_path/'clicks.csv'; ratings[['user', 'movie']].to_csv(g, index=False)
    status, out, err = run(g, '--model', 'dot', '--out', tmp_path/'x')
    assert status == 1 and '--model dot' in err and 'None' not in err and "model='" not in err


def test_one_named_metric(ratings, tmp_path):
    f = tmp_path/'r.csv'; ratings.to_csv(f, index=False)
    status, out, err = run(f, '--out', tmp_path/'a', '--epochs', '1')
    assert 'valid RMSE' in out and 'MSE ' not in out.replace('RMSE ', '')
    status, out, err = run(f, '--model', 'rank', '--out', tmp_path/'b')
    assert 'valid NDCG@10' in out and 'relevant: a held-out rating >= 4' in out
    g = tmp_path/'clicks.csv'; ratings[['user', 'movie']].to_csv(g, index=False)
    status, out, err = run(g, '--out', tmp_path/'c')
    assert 'relevant: every held-out interaction' in out


def test_implicit_data_past_ease_limit_uses_bpr(tmp_path):
    rng = np.random.default_rng(0)
    clicks = pd.DataFrame({'user': rng.integers(0, 300, 30_000), 'item': rng.permutation(30_000)})
    f = tmp_path/'clicks.csv'; clicks.to_csv(f, index=False)
    status, out, err = run(f, '--out', tmp_path/'m', '--valid-pct', '0', '-n', '2')
    assert status == 0, err
    assert "using --model bpr" in err and Recommender.load(tmp_path/'m').config['model'] == 'bpr'


def test_plain_values_in_messages(models):
    with pytest.raises(KeyError) as e: models['dot'][0].similar(99999)
    assert 'np.int64' not in str(e.value)


@pytest.mark.skipif(not Path(sys.executable).with_name('collab-recommend').exists(), reason='console script not installed')
def test_torchrun_every_rank_fails_with_the_same_line(ratings, tmp_path):
    f = tmp_path/'r.csv'; ratings.to_csv(f, index=False); (tmp_path/'file').write_text('x')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
           str(Path(sys.executable).with_name('collab-recommend')), str(f), '--out', str(tmp_path/'file')]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode != 0
    lines = [l for l in p.stderr.splitlines() if l.startswith('collab-recommend: error')]
    assert len(lines) == 2 and all('is a file, not a directory' in l for l in lines), p.stderr[-2000:]
    assert 'Traceback' not in p.stderr.split('collab-recommend: error')[0] + ''.join(lines)


# ---- found by a second hostile pass ------------------------------------------------------------------------------
def test_save_never_deletes_other_files(models, tmp_path, monkeypatch):
    rec = models['dot'][0]
    monkeypatch.setenv('HOME', str(tmp_path))
    (tmp_path/'thesis').mkdir(); (tmp_path/'thesis'/'chapter1.txt').write_text('x')
    with pytest.raises(FileExistsError, match='not a saved Recommender'): rec.save('~/thesis')
    assert (tmp_path/'thesis'/'chapter1.txt').exists()
    d = rec.save('~/model'); assert d == tmp_path/'model' and Recommender.load('~/model')
    (d/'NOTES.txt').write_text('n')
    with pytest.raises(FileExistsError, match=r'other files \(NOTES.txt\)'): rec.save(d)
    assert (d/'NOTES.txt').exists()
    os.symlink(tmp_path/'real', tmp_path/'link')
    with pytest.raises(FileExistsError, match='symbolic link'): rec.save(tmp_path/'link')
    with pytest.raises(ValueError, match='path is empty'): Recommender.load('')


@pytest.mark.parametrize('edit,message', [
    (lambda m: m.update(titles=[{'evil': 1}] + m['titles'][1:]), 'titles'),
    (lambda m: m.update(users=[0, '0'] + m['users'][2:]), 'equal by value'),
    (lambda m: m['config'].update(rating_range=[5, 1]), 'rating range'),
    (lambda m: m['config'].update(n_ratings=-5), 'rating range or a number of ratings'),
    (lambda m: m['config'].update(implicit=True), 'learned from implicit data'),
    (lambda m: m['history'][-1].update(valid_loss=-1), 'history'),
])
def test_resigned_json_with_impossible_content(models, tmp_path, edit, message):
    d = copy_of(models, 'dot', tmp_path)
    meta = json.loads((d/CONFIG).read_text()); meta['titles'] = meta['titles'] or [None] * len(meta['items'])
    edit(meta); rewrite(d, meta=meta)
    with pytest.raises(ValueError, match=message): Recommender.load(d)


def test_missing_and_malformed_ids_are_refused(models):
    rec = models['dot'][0]
    for bad in (None, float('nan'), pd.NA, ''):
        with pytest.raises(ValueError, match='must be an id'): rec.recommend(bad)
    with pytest.raises(TypeError, match='single id'): rec.scores([[0, 1]])
    with pytest.raises(TypeError, match='exclude_seen must be True or False'): rec.recommend(1, exclude_seen='no')


def test_ids_by_value_in_valid_and_titles(ratings):
    rec = Recommender.fit(ratings, epochs=1, valid=ratings.astype({'user': str, 'movie': str}))
    assert rec.history[-1]['valid_loss'] is not None
    ranked = Recommender.fit(ratings, model='rank', titles={str(i): f'm{i}' for i in ratings.movie.unique()})
    assert None not in ranked.titles
    assert Recommender.fit(ratings, model='rank', titles='movie').titles[:2] == [str(i) for i in ranked.items[:2]]


def test_bounds_on_epochs_and_seed(ratings):
    with pytest.raises(ValueError, match=r'epochs must be an integer in \[1, 100000\]'): Recommender.fit(ratings, epochs=10**9)
    with pytest.raises(ValueError, match='seed must be an integer in'): Recommender.fit(ratings, seed=2**70)


def test_cli_load_refuses_training_options(models, tmp_path):
    d = models['dot'][1]
    for extra in (['--implicit'], ['--seed', '3'], ['--valid-pct', '0.5'], ['--no-header']):
        status, out, err = run('--load', d, '--for-user', '1', *extra)
        assert status == 1 and 'takes no' in err, (extra, err)
    assert 'empty' in run('--load', d, '--for-user', '')[2]


@pytest.mark.parametrize('sep', ['||', '++', '::'])
def test_cli_multi_character_separator_is_literal(ratings, tmp_path, sep):
    f = tmp_path/'r.txt'
    f.write_text('\n'.join([sep.join(['user', 'movie', 'rating'])] + [sep.join(map(str, r)) for r in ratings.values[:300]]))
    status, out, err = run(f, '--sep', sep, '--out', tmp_path/'m', '--epochs', '1', '--valid-pct', '0')
    assert status == 0 and 'error' not in err and '300 ratings' in out, err


def test_ease_with_small_lam_round_trips(ratings, tmp_path):
    "Whatever save writes, load accepts: EASE's check allows for float32 rounding at any lam."
    for lam in (0.01, 0.5):
        rec = Recommender.fit(ratings[['user', 'movie']], rating=None, model='ease', lam=lam)
        np.testing.assert_array_equal(Recommender.load(rec.save(tmp_path/f'e{lam}')).scores([1]), rec.scores([1]))


def test_cli_strips_spaces_around_names_and_ids(tmp_path):
    f = tmp_path/'s.csv'
    f.write_text('user, movie, rating\n' + '\n'.join(f'{u}, {m}, {(u * m) % 5 + 1}' for u in range(30) for m in range(20)))
    status, out, err = run(f, '--out', tmp_path/'m', '--epochs', '1', '--valid-pct', '0')
    assert status == 0 and '600 ratings' in out, err
    rec = Recommender.load(tmp_path/'m')
    assert rec.config['columns']['rating'] == 'rating' and '10' in set(rec.items) and ' 10' not in set(rec.items)


def test_true_is_not_an_id(models):
    with pytest.raises(TypeError, match='must be an id'): models['dot'][0].recommend(True)


def test_cli_names_the_flags_a_model_takes(ratings, tmp_path):
    "A model that refuses a training flag is told in flags, never in Python's parameter names."
    f = tmp_path/'r.csv'; ratings.to_csv(f, index=False)
    err = run(f, '--model', 'ease', '--epochs', '2', '--out', tmp_path/'x')[2]
    assert 'takes no --epochs; of --factors, --epochs, --lr, --wd, --bs it takes none' in err, err
    err = run(f, '--model', 'bayes', '--lr', '0.1', '--out', tmp_path/'x')[2]
    assert 'it takes only --factors' in err and 'n_samples' not in err, err
