"""Whole processes, start to exit: ``genmnist train`` against the original's script on its
TF1 graph (``benchmarks.legacy_train``), and optionally against the port at an earlier
commit, all pinned to one core.

A user waits for the whole process, not for the steady state alone: importing
TensorFlow, reading the data, building and tracing, the first iterations, the grids, the
checkpoint, and whatever the process waits for before it exits. The sides take turns
(the order reversed every round), each run a fresh process pinned to ``--cpu``, after one
warm-up run a side that is not counted (it fills the file cache). Besides the wall and
CPU seconds of each run, the times at which its display lines ("iteration 0: ...",
"iteration 10: ...") arrive split it into start-up (to iteration 0, the warm-up steps and
tracing included), the first 30 iterations, and the steady state from iteration 100::

    python -m benchmarks.whole_process                                  # gan, 300 iterations, 3 rounds, cpu 1
    python -m benchmarks.whole_process --before 81702b8 --json docs/speed-loop/whole-process-gan-300.json
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.whole_process")

import argparse  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from benchmarks import shared  # noqa: E402

DISPLAY_LINE = re.compile(r"^iteration (\d+):")
EARLY = 30  # iterations 1..30: where the issue saw the port at twice the original's cost
STEADY_FROM = 100


def commands(model, steps, batch_size, seed, out):
    """Each side's command line, to run from a checkout's root."""
    common = ["--model", model, "--steps", str(steps), "--batch-size", str(batch_size), "--seed", str(seed),
              "--out", out]
    return {"legacy": [sys.executable, "-m", "benchmarks.legacy_train", *common],
            "port": [sys.executable, "-m", "genmnist", "train", *common]}


def run_once(command, cwd, cpu):
    """Run ``command`` pinned to ``cpu``; its wall and CPU seconds and when each display line came."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    shown = {}
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    tail = []
    for line in process.stdout:
        match = DISPLAY_LINE.match(line)
        if match:
            shown[int(match.group(1))] = time.perf_counter() - start
        tail = (tail + [line])[-20:]
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} (in {cwd}) exited {process.returncode}:\n{''.join(tail)}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "shown": shown}


def phases(run, steps):
    """Start-up, seconds per iteration over the first ``EARLY`` and from ``STEADY_FROM``, and the rest."""
    shown, last = run["shown"], steps - 1
    out = {"start_up": shown[0]}
    if EARLY in shown:
        out["early_per_iteration"] = (shown[EARLY] - shown[0]) / EARLY
    if STEADY_FROM in shown and last > STEADY_FROM:
        out["steady_per_iteration"] = (shown[last] - shown[STEADY_FROM]) / (last - STEADY_FROM)
    out["after_last_iteration"] = run["wall"] - shown[last]
    return out


def checkout_at(revision, scratch):
    """A worktree of this repository at ``revision`` (removed by :func:`remove_checkout`)."""
    path = os.path.join(scratch, f"at-{revision}")
    done = subprocess.run(["git", "worktree", "add", "--detach", "--force", path, revision], cwd=shared.ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"--before {revision}: git cannot check it out ({done.stderr.strip()})")
    return path


def remove_checkout(path):
    subprocess.run(["git", "worktree", "remove", "--force", path], cwd=shared.ROOT, capture_output=True)


def median_of(runs, key):
    return statistics.median(run[key] for run in runs)


def summarise(runs, steps, reference):
    """Medians per side, and each side's wall and CPU against ``reference`` round by round."""
    out = {}
    for side, timed in runs.items():
        split = [phases(run, steps) for run in timed]
        out[side] = {"wall": median_of(timed, "wall"), "cpu": median_of(timed, "cpu"),
                     **{name: statistics.median(p[name] for p in split) for name in split[0]},
                     "runs": timed}
        if side != reference:
            for key in ("wall", "cpu"):
                ratios = [mine[key] / theirs[key] for mine, theirs in zip(timed, runs[reference])]
                out[side][f"{key}_over_{reference}"] = {"median": statistics.median(ratios), "min": min(ratios),
                                                        "max": max(ratios), "rounds": ratios}
    return out


def print_summary(summary, reference):
    print(f"\n{'side':14s} {'wall s':>8s} {'CPU s':>8s} {'start-up s':>11s} {'it 1-30 s/it':>13s} "
          f"{'steady s/it':>12s} {'exit s':>7s}  wall vs {reference} (rounds)")
    for side, row in summary.items():
        ratio = row.get(f"wall_over_{reference}")
        against = (f"{ratio['median']:.3f} ({', '.join(f'{r:.3f}' for r in ratio['rounds'])})"
                   if ratio else "1")
        print(f"{side:14s} {row['wall']:8.1f} {row['cpu']:8.1f} {row['start_up']:11.1f} "
              f"{row.get('early_per_iteration', float('nan')):13.3f} {row.get('steady_per_iteration', float('nan')):12.3f} "
              f"{row['after_last_iteration']:7.1f}  {against}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.whole_process", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["gan", "wgan"], default="gan")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the original's (gan 128, wgan 64)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3, help="timed runs a side (after one warm-up run each)")
    parser.add_argument("--cpu", type=int, default=1, help="the core every run is pinned to")
    parser.add_argument("--before", metavar="REVISION", default=None,
                        help="also time the port at this commit (a temporary git worktree)")
    parser.add_argument("--json", default=None, help="also write the figures, with provenance, to this file")
    args = parser.parse_args(argv)
    if args.batch_size is None:
        args.batch_size = {"gan": 128, "wgan": 64}[args.model]
    if args.cpu not in os.sched_getaffinity(0):
        parser.error(f"--cpu {args.cpu} is not a core this process may use: {sorted(os.sched_getaffinity(0))}")
    require_steps = STEADY_FROM + 2
    if args.steps < require_steps:
        parser.error(f"--steps must be at least {require_steps} to time the steady state")
    started = shared.moment()
    print(shared.summary(shared.provenance(vars(args), started)))
    scratch = tempfile.mkdtemp(prefix="whole-process-")
    out = os.path.join(scratch, "run")
    sides = {name: (command, shared.ROOT)
             for name, command in commands(args.model, args.steps, args.batch_size, args.seed, out).items()}
    before = None
    try:
        if args.before:
            before = checkout_at(args.before, scratch)
            sides[f"port@{args.before}"] = (sides["port"][0], before)
        runs = {name: [] for name in sides}
        for round_index in range(-1, args.rounds):  # round -1: the warm-up runs
            order = list(sides) if round_index % 2 else list(reversed(sides))
            for name in order:
                shutil.rmtree(out, ignore_errors=True)
                command, cwd = sides[name]
                run = run_once(command, cwd, args.cpu)
                if round_index >= 0:
                    runs[name].append(run)
                print(f"{'warm-up' if round_index < 0 else f'round {round_index + 1}/{args.rounds}'} {name}: "
                      f"wall {run['wall']:.1f} s, CPU {run['cpu']:.1f} s, iteration 0 at {run['shown'][0]:.1f} s "
                      f"(load {os.getloadavg()[0]:.2f})", flush=True)
    finally:
        if before:
            remove_checkout(before)
        shutil.rmtree(scratch, ignore_errors=True)
    summary = summarise(runs, args.steps, "legacy")
    print_summary(summary, "legacy")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.json:
        shared.write_results(args.json, {"model": args.model, "steps": args.steps, "batch_size": args.batch_size,
                                         "cpu": args.cpu, "sides": summary}, vars(args), started)
        print(f"written to {args.json}")
    return summary


if __name__ == "__main__":
    main()
