"""Time per epoch and peak memory of `fit` against the number of ratings, dense AdamW vs row-wise AdamW (lesson 14).

    .venv/bin/python scripts/scale_benchmark.py [--sizes 1e5,1e6,1e7] [--opts dense,rowwise,fused] [--repeats 2] [--big] [--fixed] [--profile] [--threads-check] [--json out.json]

Each size runs in its own process under `/usr/bin/time -v` (peak resident memory); synthetic ratings with 10·√n users and
2·√n items (as `benchmarks.scaling_benchmark`); `--big` adds MovieLens-25M's shape: 25M ratings, 162,541 users × 59,047 items;
`--fixed` times the last of --big-opts on the same sizes with MovieLens-25M's tables (the tables fixed, only the ratings growing).
Prints seconds per epoch (wall and CPU), peak memory, the log-log slope of time against ratings, and dense/row-wise ratios.
Optimisers: `dense` (trainer's `adamw`), `rowwise` (`RowAdamW`, torch), `fused` (`FusedRowAdamW`, compiled with numba), `auto`
(the product's `auto_adamw`). `--profile` also splits one step into batch, forward, catch-up, backward and update (`step_profile`)
on the tables of 1e5 and 1e7 ratings and of the 25M shape.
"""
import argparse, json, math, os, re, shutil, subprocess, sys, time

OPTS = ('dense', 'rowwise', 'fused', 'auto')
BIG = dict(ratings=25_000_000, users=162_541, items=59_047)

def child(a):
    import torch
    torch.set_num_threads(a.threads)
    from collab_lessons.trainer import adamw
    from collab_lessons.scale import rowwise_adamw, fused_rowwise_adamw, auto_adamw, epoch_seconds
    opt = dict(dense=adamw, rowwise=rowwise_adamw, fused=fused_rowwise_adamw, auto=auto_adamw)[a.child_opt]
    res = epoch_seconds(a.child_n, opt, n_users=a.users, n_items=a.items, bs=a.bs, threads=a.threads)
    print('RESULT ' + json.dumps(dict(res, opt=a.child_opt, bs=a.bs, threads=a.threads)), flush=True)

def run_one(n, opt, a, users=None, items=None):
    cmd = [sys.executable, __file__, '--child-n', str(n), '--child-opt', opt, '--bs', str(a.bs), '--threads', str(a.threads)]
    if users: cmd += ['--users', str(users), '--items', str(items)]
    timer = shutil.which('time') if not os.path.exists('/usr/bin/time') else '/usr/bin/time'
    if timer: cmd = [timer, '-v'] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True)
    line = [l for l in p.stdout.splitlines() if l.startswith('RESULT ')]
    if p.returncode or not line: raise RuntimeError(f'{opt} at {n:,} failed:\n{p.stdout}\n{p.stderr[-3000:]}')
    res = json.loads(line[0][7:])
    rss = re.search(r'Maximum resident set size \(kbytes\): (\d+)', p.stderr)
    res['peak_mb'] = int(rss.group(1)) / 1024 if rss else float('nan')
    return res

def profile(opts, bs, steps=40):
    "Milliseconds per step split by `step_profile`, for each optimiser on the tables of 1e5 and 1e7 ratings and of the 25M shape (400k ratings drawn)."
    import torch
    torch.set_num_threads(1)
    from collab_lessons.trainer import adamw
    from collab_lessons.scale import rowwise_adamw, fused_rowwise_adamw, auto_adamw, synthetic_tensors, step_profile
    from collab_lessons.models import DotProductBias
    funcs = dict(dense=adamw, rowwise=rowwise_adamw, fused=fused_rowwise_adamw, auto=auto_adamw)
    out = []
    for label, users, items in [(f'1e{k}', int(10 * math.sqrt(10 ** k)), int(2 * math.sqrt(10 ** k))) for k in (5, 7)] + [('25M', BIG['users'], BIG['items'])]:
        x, y = synthetic_tensors(users, items, bs * (steps + 5))
        for opt in opts:
            torch.manual_seed(0)
            res = dict(step_profile(DotProductBias(users, items, 50, y_range=(0.5, 5.5)), x, y, funcs[opt], bs=bs, steps=steps), size=label, opt=opt)
            out.append(res)
            print(f"profile {label:>4} {opt:8s} ms/step: " + ', '.join(f'{k} {res[k]:.2f}' for k in ('batch', 'forward', 'catch_up', 'backward', 'update', 'total')), flush=True)
    return out

def slope(rows, key):
    xs, ys = [math.log(r['ratings']) for r in rows], [math.log(r[key]) for r in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)

def threads_check(reps=5):
    "Fit ML-100K with 1 and 2 torch threads, alternating, in one process; returns the times."
    import statistics, torch
    from collab_lessons.trainer import fit, encode, LEAN_RECIPE
    from collab_lessons.models import DotProductBias
    from collab_lessons.data import load_ratings, random_split
    train, _ = random_split(load_ratings(), 0.2, seed=42)
    x, y, vocab = encode(train)
    times = {1: [], 2: []}
    for rep in range(reps):
        for t in ((1, 2) if rep % 2 == 0 else (2, 1)):
            torch.manual_seed(0); m = DotProductBias(len(vocab['user']), len(vocab['item']), 50)
            start = time.perf_counter(); fit(m, x, y, progress=False, threads=t, **LEAN_RECIPE); times[t].append(time.perf_counter() - start)
    return dict(times=times, median_1=statistics.median(times[1]), median_2=statistics.median(times[2]),
                ratio_2_over_1=statistics.median(times[2]) / statistics.median(times[1]), load=os.getloadavg())

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', default='1e5,3e5,1e6,3e6,1e7', help='comma-separated numbers of ratings')
    p.add_argument('--opts', default='dense,rowwise,fused', help=f'comma-separated, from {OPTS}')
    p.add_argument('--big', action='store_true', help="add MovieLens-25M's shape (25M ratings, 162,541 users x 59,047 items), row-wise only")
    p.add_argument('--big-opts', default='rowwise,fused', help='optimisers for the --big point')
    p.add_argument('--fixed', action='store_true', help="also time the sizes on MovieLens-25M's tables (last of --big-opts)")
    p.add_argument('--profile', action='store_true', help='split a step into batch, forward, catch-up, backward, update (1e5, 1e7 and 25M tables)')
    p.add_argument('--repeats', type=int, default=1, help='runs per size and optimiser (the fastest is kept: the machine is shared)')
    p.add_argument('--bs', type=int, default=8192)
    p.add_argument('--threads', type=int, default=1, help='torch threads in fit (and the point of --big-threads)')
    p.add_argument('--big-threads', default='', help='also time the --big point of the last of --big-opts with these torch thread counts, e.g. 2')
    p.add_argument('--threads-check', action='store_true', help='also time ML-100K fits with 1 and 2 threads')
    p.add_argument('--json', help='write all results to this file')
    p.add_argument('--child-n', type=int, help=argparse.SUPPRESS); p.add_argument('--child-opt', help=argparse.SUPPRESS)
    p.add_argument('--users', type=int, help=argparse.SUPPRESS); p.add_argument('--items', type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child_n: return child(a)
    sizes = [int(float(s)) for s in a.sizes.split(',') if s]
    opts = [o for o in a.opts.split(',') if o]
    if not (os.path.exists('/usr/bin/time') or shutil.which('time')): print('note: /usr/bin/time not found (apt-get install time): no peak memory')
    print(f'load average {os.getloadavg()}, {os.cpu_count()} CPUs, bs={a.bs}, threads={a.threads}', flush=True)
    rows = []
    for n in sizes:
        tries = {opt: [] for opt in opts}
        for _ in range(a.repeats):                    # interleave optimisers so all see the same load; keep each one's fastest run
            for opt in opts: tries[opt].append(run_one(n, opt, a))
        for opt in opts:
            r = min(tries[opt], key=lambda t: t['cpu_per_epoch'])
            r['cpu_runs'] = [t['cpu_per_epoch'] for t in tries[opt]]; rows.append(r)
            print(f"{opt:8s} {n:>11,} ratings {r['users']:>7,} users {r['items']:>6,} items: {r['wall_per_epoch']:8.3f} s/epoch wall, "
                  f"{r['cpu_per_epoch']:8.3f} s CPU, peak {r['peak_mb']:7.0f} MB" + (f" (fastest of {a.repeats})" if a.repeats > 1 else ''), flush=True)
    summary = {}
    for opt in opts:
        mine = [r for r in rows if r['opt'] == opt]
        if len(mine) > 1:
            summary[opt] = dict(slope_wall=slope(mine, 'wall_per_epoch'), slope_cpu=slope(mine, 'cpu_per_epoch'))
            print(f"{opt}: log-log slope of time per epoch vs ratings, {mine[0]['ratings']:,}..{mine[-1]['ratings']:,}: "
                  f"wall {summary[opt]['slope_wall']:.3f}, CPU {summary[opt]['slope_cpu']:.3f}")
    for other in [o for o in opts if o != 'dense']:
        if 'dense' not in opts: break
        for n in sizes:
            d, r = [[x for x in rows if x['ratings'] == n and x['opt'] == o][0] for o in ('dense', other)]
            print(f"{n:>11,} ratings: dense/{other} time ratio wall {d['wall_per_epoch'] / r['wall_per_epoch']:.2f}, CPU {d['cpu_per_epoch'] / r['cpu_per_epoch']:.2f}")
    big = []
    if a.big:
        big_opts = [o for o in a.big_opts.split(',') if o]
        for threads in [a.threads] + [int(t) for t in a.big_threads.split(',') if t]:
            for opt in (big_opts if threads == a.threads else big_opts[-1:]):
                r = run_one(BIG['ratings'], opt, argparse.Namespace(**{**vars(a), 'threads': threads}), BIG['users'], BIG['items']); big.append(r)
                print(f"{opt:8s} 25M ratings (162,541 x 59,047), {threads} thread(s): {r['wall_per_epoch']:.1f} s/epoch wall, {r['cpu_per_epoch']:.1f} s CPU, "
                      f"peak {r['peak_mb']:.0f} MB", flush=True)
    fixed = []
    if a.fixed:
        opt = [o for o in a.big_opts.split(',') if o][-1]
        for n in sizes:
            r = min((run_one(n, opt, a, BIG['users'], BIG['items']) for _ in range(a.repeats)), key=lambda t: t['cpu_per_epoch']); fixed.append(r)
            print(f"{opt:8s} {n:>11,} ratings on MovieLens-25M's tables: {r['wall_per_epoch']:8.3f} s/epoch wall, {r['cpu_per_epoch']:8.3f} s CPU, peak {r['peak_mb']:7.0f} MB", flush=True)
        if len(fixed) > 1: print(f"{opt} on fixed tables: log-log slope, CPU {slope(fixed, 'cpu_per_epoch'):.3f}")
    prof = profile(opts, a.bs) if a.profile else None
    threads = threads_check() if a.threads_check else None
    if threads: print(f"threads, ML-100K fit: 1 thread median {threads['median_1']:.2f} s, 2 threads {threads['median_2']:.2f} s "
                      f"(ratio {threads['ratio_2_over_1']:.2f}); all: {threads['times']}, load {threads['load']}")
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(rows=rows, slopes=summary, big=big, fixed=fixed, profile=prof, threads=threads, bs=a.bs, load=os.getloadavg()), f, indent=1)
    return 0

if __name__ == '__main__': sys.exit(main())
