"""Does the port learn what the original learned? Full-length runs, scored side by side.

Trains, with the original's settings (10,000 iterations, batch 128, learning rate 0.0005,
Adam beta1 0.9, the 30-step warm-up), for each seed:

* the port in legacy fidelity,
* the port in fixed fidelity,
* the legacy TF1 graph (``common.legacy_tf1``: the original's graph, its ``_next_batch``
  and its NumPy z draws, run through ``tf.compat.v1`` sessions; a snapshot every 1000
  iterations, because its losses can go inf/NaN (quirk Q8) and then the run stops and is
  scored at its last finite snapshot),

and the MNIST WGAN-GP for as many iterations as fit in ``--wgan-minutes``. Every run is
scored with ``evaluate`` (2,000 samples; classifier score, Frechet distance in the MNIST
classifier's features, largest class fraction) and its last 8x8 grid is kept. The output
folder gets ``results.json``, ``results.md`` (the table in docs/results.md) and the grids. Run from
the repository root::

    python -m benchmarks.quality --seeds 0 1 --out docs/quality        # hours on 2 cores
    python -m benchmarks.quality --steps 200 --seeds 0 --wgan-minutes 1 --out /tmp/q   # a smoke run
    python -m benchmarks.quality --report-only --out docs/quality      # only the table, from the files

All runs use the embedded 10,000-digit sample. The spread between seeds of one setting is
the yardstick: the port in legacy fidelity should land inside the legacy graph's spread.

Each run's row goes to ``OUT/<setting>-seed<S>.json`` as soon as it is scored, with its
provenance (the commit, every setting, the packages, the machine, the load: see
``benchmarks.shared``) and how its training was timed; a run already scored is skipped,
so the hours of work can be split: several invocations side by side (``taskset -c 0 ...
--settings port-legacy --seeds 1``), or across days. The real digits' scores go to
``OUT/ceiling.json``. ``--report-only`` rebuilds the table from those files alone, with
the commit each row came from. A run folder that already finished training (``--work``)
is scored without training it again.
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.quality")

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import shared  # noqa: E402
from common import data  # noqa: E402
from common.evaluation import generate_images  # noqa: E402
from common.images import save_grid  # noqa: E402
from common.run import RunFolder  # noqa: E402
from common.latents import sample_latents  # noqa: E402
from common.training import TrainingDiverged, train  # noqa: E402
from genmnist import EMBEDDED  # noqa: E402
from genmnist.classifier import MnistScorer  # noqa: E402
from genmnist.models import RECIPES  # noqa: E402


class TimeLimit(keras.callbacks.Callback):
    """Stop ``fit`` after ``seconds`` of training (the run is then saved as usual)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if time.time() - self.start > self.seconds:
            self.model.stop_training = True


def _timed(work, seconds=None, from_file_times=False):
    """Record (or read back) a run's training time next to it, so a finished run is never redone.

    With it: how it was measured, and, for a time the training process measured itself, the
    cores that process could use, the load average as it ended and the commit it ran. A
    time read off the files of a run whose process died says nothing of that process.
    """
    path = os.path.join(work, "wall_seconds.json")
    if seconds is not None:
        clock = not from_file_times
        shared.write_json(path, {"seconds": seconds, "measured_by": "clock" if clock else "file times",
                                 "cores": len(os.sched_getaffinity(0)) if clock else None,
                                 "load_average": shared.moment()["load_average"] if clock else None,
                                 "commit": shared.code_version()["commit"] if clock else None})
    if os.path.exists(path):
        with open(path) as handle:
            return json.load(handle)
    return {"seconds": None}


def training_record(timing):
    """A row's account of its training time (``_timed``'s record, or an older version's)."""
    measured_by = timing.get("measured_by") or ("file times" if timing.get("note") else
                                                "clock" if timing.get("seconds") is not None else None)
    return {"measured_by": measured_by, "cores": timing.get("cores", timing.get("cpus")),
            "load_average": timing.get("load_average"), "commit": timing.get("commit")}


def _finished(run_dir, steps):
    """A run folder whose training already reached ``steps`` iterations."""
    try:
        with open(os.path.join(run_dir, "config.json")) as handle:
            return json.load(handle).get("steps_done", 0) >= steps
    except (OSError, ValueError):
        return False


def port_run(out, model, fidelity, seed, steps, images, batch_size, learning_rate, seconds=None, options=(),
             quirks=None):
    if seconds is None and _finished(out, steps):
        print(f"[quality] {out} already trained: scoring it", flush=True)
        return RunFolder.open(out, RECIPES).load_model(RECIPES), _timed(out), steps
    config = {"model": model, "fidelity": fidelity, "z_dim": 100, "image_shape": [28, 28, 1],
              "seed": seed, "batch_size": batch_size, "learning_rate": learning_rate, "data": None,
              "steps": steps}
    # Issue 8's speed options, for their effect on quality: ``port-legacy+bf16+fused`` etc.
    config.update(shared.speed_options(options))
    # Q8 and Q6 as train sets them (corrected in fixed fidelity only), unless ``quirks`` says.
    config.update({"stable_losses": fidelity == "fixed", "reshuffle": fidelity == "fixed", **(quirks or {})})
    # An interrupted run (a checkpoint every 1000 iterations) is resumed, bit-exactly; its
    # wall time then adds up the pieces.
    resume = seconds is None and _has_checkpoint(out)
    earlier = (_timed(out).get("seconds") or 0.0) if resume else 0.0
    if resume:
        run = RunFolder.open(out, RECIPES)
        print(f"[quality] {out}: resuming", flush=True)
    else:
        shutil.rmtree(out, ignore_errors=True)
        run = RunFolder.create(out, config)
    callbacks = [TimeLimit(seconds)] if seconds else [Progress(out, steps)]
    start = time.time()
    try:
        trained = train(run, RECIPES, images, steps, resume=resume, checkpoint_every=1000, verbose=0,
                        callbacks=callbacks, print_fn=lambda *a: None)
    finally:
        _timed(out, earlier + time.time() - start)
    return trained, _timed(out), max(trained.iteration, 0)


def diverged_port_run(out, diverged_at):
    """``(model, timing, iterations)`` of a port run that went non-finite: its last good checkpoint."""
    print(f"[quality] {out}: the losses went inf/NaN at iteration {diverged_at}", flush=True)
    if not _has_checkpoint(out):  # it died before its first checkpoint: nothing to score
        return None, _timed(out), 0
    model = RunFolder.open(out, RECIPES).load_model(RECIPES, print_fn=lambda *a: None)
    return model, _timed(out), max(model.iteration, 0)


def _has_checkpoint(run_dir):
    return os.path.exists(os.path.join(run_dir, "checkpoints", "checkpoint"))


class Progress(keras.callbacks.Callback):
    """A line every 1000 iterations: these runs take the best part of an hour."""

    def __init__(self, name, steps):
        super().__init__()
        self.name, self.steps = name, steps

    def on_train_begin(self, logs=None):
        self.start, self.first = time.time(), int(self.model.step_counter.numpy())
        self.done = self.first

    def on_train_batch_end(self, batch, logs=None):
        self.done += 1
        done = self.done
        if done % 1000 == 0:
            rate = (done - self.first) / (time.time() - self.start)
            losses = ", ".join(f"{k} {float(v):.4g}" for k, v in (logs or {}).items())
            print(f"[quality] {self.name}: step {done}, {losses}, {rate:.2f} it/s", flush=True)


class Diverged(Exception):
    """The original graph's losses went inf/NaN: ``log`` of a saturated sigmoid (quirk Q8)."""

    def __init__(self, iteration):
        super().__init__(f"losses non-finite at iteration {iteration}")
        self.iteration = iteration


SNAPSHOT_EVERY = 1000


def _first_non_finite(losses_csv):
    """The first iteration of ``losses.csv`` whose losses are inf or NaN, or None."""
    for line in _logged_lines(losses_csv):
        iteration, *losses = line.strip().split(",")
        if not all(np.isfinite(float(value)) for value in losses):
            return int(iteration)
    return None


def _logged_lines(losses_csv):
    """The whole lines of ``losses.csv`` after its header, one per iteration from 0. A kill
    can leave the file without its header or with its last line cut off: neither counts."""
    if not os.path.exists(losses_csv):
        return []
    with open(losses_csv) as handle:
        return [line for line in list(handle)[1:] if line.endswith("\n")]


def _snapshots(out):
    """``(iterations done, checkpoint prefix)`` of the legacy run's snapshots, oldest first."""
    folder = os.path.join(out, "tf1")
    found = []
    for file in os.listdir(folder) if os.path.isdir(folder) else ():
        name = file[:-len(".index")] if file.endswith(".index") else ""
        if name.startswith("gan-") and name[4:].isdigit():
            found.append((int(name[4:]), os.path.join(folder, name)))
    return sorted(found)


def legacy_graph_run(out, seed, steps, images):
    """The original's training loop on its TF1 graph, then imported as a run folder.

    Sample grids on the original's display schedule go to ``out/samples`` (same fixed z as
    the port's grids of that seed), the losses to ``out/losses.csv``, a TF1 checkpoint every
    1000 iterations to ``out/tf1``. The original's loss takes ``log`` of sigmoid outputs
    (quirk Q8), so a saturated discriminator turns it to inf, then every weight to NaN: the
    run stops there, and is scored at its last snapshot. Returns ``(model or None, timing,
    iterations, outcome)``; ``outcome`` has ``diverged_at`` and ``scored_at`` for such runs.
    """
    from common.callbacks import is_display_iteration
    from common.legacy_tf1.graphs import write_random_checkpoint
    from genmnist.cli import main

    run_dir = os.path.join(out, "run")
    losses_csv = os.path.join(out, "losses.csv")
    diverged_at = _first_non_finite(losses_csv)
    if diverged_at is None and _finished(run_dir, steps):
        print(f"[quality] {out} already trained: scoring it", flush=True)
        return RunFolder.open(run_dir, RECIPES).load_model(RECIPES), _timed(out), steps, {}
    if diverged_at is None:
        diverged_at = _train_legacy_graph(out, seed, steps, images, write_random_checkpoint,
                                          is_display_iteration)
    elif _timed(out).get("seconds") is None:
        # A run that died at its divergence before it could record its time: its first
        # grid and its last loss line bracket it.
        first = os.path.join(out, "samples", "sample_0_epoch.png")
        _timed(out, os.path.getmtime(losses_csv) - os.path.getmtime(first), from_file_times=True)
    timing = _timed(out)
    if diverged_at is None:
        prefix, outcome, done = os.path.join(out, "tf1", "gan"), {}, steps
    else:
        print(f"[quality] {out}: the original's losses went inf/NaN at iteration {diverged_at}", flush=True)
        usable = [snapshot for snapshot in _snapshots(out) if snapshot[0] <= diverged_at]
        outcome = {"diverged_at": diverged_at, "scored_at": usable[-1][0] if usable else None}
        if not usable:
            return None, timing, diverged_at, outcome
        done, prefix = usable[-1]
    shutil.rmtree(run_dir, ignore_errors=True)
    status = main(["import-tf1", prefix, "--model", "gan", "--out", run_dir])
    if status:
        raise SystemExit(f"import-tf1 failed with status {status}")
    return RunFolder.open(run_dir, RECIPES).load_model(RECIPES), timing, done, outcome


def _train_legacy_graph(out, seed, steps, images, write_random_checkpoint, is_display_iteration):
    """Run the original's loop; the iteration whose losses went non-finite, or None.

    An interrupted run with the same settings goes on from its last snapshot, exactly (the
    draws before it are replayed); its wall time then adds up the pieces.
    """
    settings = legacy_graph_settings(seed, steps)
    settings_path = os.path.join(out, "settings.json")
    resume_from = _resumable_snapshot(out, settings)
    if resume_from is None:
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(os.path.join(out, "samples"))
        shared.write_json(settings_path, settings)
        earlier, done = 0.0, 0
    else:
        earlier, done = _timed(out).get("seconds") or 0.0, resume_from[1]
        print(f"[quality] {out}: resuming the original's loop after iteration {done}", flush=True)
    sample_z = sample_latents(64, 100, seed)
    losses_file = _losses_file(os.path.join(out, "losses.csv"), done)
    start = time.time()

    def on_iteration(i, graph, losses):
        losses_file.write(f"{i},{losses['d_loss']:.6g},{losses['g_loss']:.6g}\n")
        if not (np.isfinite(losses["d_loss"]) and np.isfinite(losses["g_loss"])):
            raise Diverged(i)
        if (i + 1) % SNAPSHOT_EVERY == 0 and i + 1 < steps:
            losses_file.flush()  # a snapshot never runs ahead of the losses it resumes after
            graph.save(os.path.join(out, "tf1", f"gan-{i + 1}"), write_meta_graph=False)
            _timed(out, earlier + time.time() - start)  # what a resume from here has cost
        if is_display_iteration(i, steps):
            # Batch statistics of the 64 sample z, as the port's grids (and the original's) use.
            grid = graph.generate(sample_z).reshape(-1, 28, 28, 1)
            save_grid(grid, os.path.join(out, "samples", f"sample_{i}_epoch.png"), rows=8, cols=8)
            rate = (i + 1 - done) / (time.time() - start)
            print(f"[quality] {out}: iteration {i}, d_loss {losses['d_loss']:.4g}, "
                  f"g_loss {losses['g_loss']:.4g}, {rate:.2f} it/s", flush=True)

    # gantrain() shuffled the data set once at load, then let _next_batch walk through it.
    shuffled = images[np.random.default_rng(seed).permutation(len(images))]
    try:
        write_random_checkpoint("gan", os.path.join(out, "tf1", "gan"), seed, data=shuffled, iterations=steps,
                                pretrain_steps=settings["pretrain_steps"], batch_size=settings["batch_size"],
                                learning_rate=settings["learning_rate"], beta1=settings["beta1"],
                                on_iteration=on_iteration, resume_from=resume_from)
    except Diverged as stop:
        _timed(out, earlier + time.time() - start)
        return stop.iteration
    finally:
        losses_file.close()
    _timed(out, earlier + time.time() - start)
    return None


def _resumable_snapshot(out, settings):
    """``(prefix, iterations done)`` of the last snapshot of an interrupted run with these settings."""
    try:
        with open(os.path.join(out, "settings.json")) as handle:
            if json.load(handle) != json.loads(json.dumps(settings)):
                return None
    except (OSError, ValueError):
        return None
    losses = os.path.join(out, "losses.csv")
    if _first_non_finite(losses) is not None:
        return None
    logged = len(_logged_lines(losses))
    usable = [(prefix, done) for done, prefix in _snapshots(out) if done <= logged
              and os.path.exists(prefix + ".data-00000-of-00001")]
    return usable[-1] if usable else None


def _losses_file(path, done):
    """``losses.csv`` opened for appending after its first ``done`` iterations (the rest dropped)."""
    kept = _logged_lines(path)[:done]
    handle = open(path, "w")
    handle.write("iteration,d_loss,g_loss\n" + "".join(kept))
    return handle


def legacy_graph_settings(seed, steps):
    """The settings ``_train_legacy_graph`` runs the original's loop with: its gantrain()'s."""
    return {"model": "gan", "seed": seed, "iterations": steps, "pretrain_steps": RECIPES["gan"].pretrain_steps,
            "batch_size": 128, "learning_rate": 0.0005, "beta1": 0.9, "snapshot_every": SNAPSHOT_EVERY,
            "data": "the embedded sample, shuffled once with the seed"}


# How every run is scored: samples generated from z of this seed, and the grid's z.
SCORING = {"samples": 2000, "z_seed": 12345, "grid_z_seed": 0}


def score(scorer, model, batch_size, name, out_dir):
    images = generate_images(model, SCORING["samples"], seed=SCORING["z_seed"], batch_size=batch_size)
    result = scorer.score(images)
    grid = os.path.join(out_dir, f"{name}.png")
    save_grid(np.asarray(model.generate(sample_latents(64, model.recipe.z_dim, SCORING["grid_z_seed"]))), grid,
              rows=8, cols=8)
    return result, grid


PROGRESS_ITERATIONS = (0, 1000, 3000, 5000, 7000, 9000)


def progress_strip(samples_dir, steps, path):
    """The run's sample grids at a few iterations and its last, side by side (white gaps)."""
    from PIL import Image

    wanted = [i for i in PROGRESS_ITERATIONS if i < steps - 1] + [steps - 1]
    grids = [Image.open(os.path.join(samples_dir, f"sample_{i}_epoch.png")).convert("L") for i in wanted
             if os.path.exists(os.path.join(samples_dir, f"sample_{i}_epoch.png"))]
    if not grids:
        return None
    gap = 8
    strip = Image.new("L", (sum(g.width for g in grids) + gap * (len(grids) - 1), grids[0].height), 255)
    for k, grid in enumerate(grids):
        strip.paste(grid, (k * (grid.width + gap), 0))
    strip.save(path)
    return path


SETTINGS = ("port-legacy", "port-fixed", "tf1-legacy-graph", "wgan")


def run_one(setting, seed, args, images, scorer):
    """Train (or pick up) one run, score it, and write its row to ``OUT/NAME.json``."""
    name = f"{setting}-seed{seed}"
    work = os.path.join(args.work, name)
    print(f"[quality] {name} ...", flush=True)
    started = shared.moment()
    base, *options = setting.split("+")
    outcome = {}
    batch_size = 64 if setting == "wgan" else 128
    if base in ("port-legacy", "port-fixed"):
        try:
            model, timing, done = port_run(work, "gan", base[len("port-"):], seed, args.steps, images,
                                           batch_size, 0.0005, options=options)
        except TrainingDiverged as stop:
            # Legacy fidelity takes the original's losses as written (Q8), so it can die as the
            # original's graph does; it is scored, like that graph, at its last good checkpoint.
            model, timing, done = diverged_port_run(work, stop.iteration)
            outcome = {"diverged_at": stop.iteration, "scored_at": done if model is not None else None}
    elif setting == "tf1-legacy-graph":
        model, timing, done, outcome = legacy_graph_run(work, seed, args.steps, images)
    else:
        model, timing, done = port_run(work, "wgan", "legacy", seed, 10 ** 9, images, batch_size, 1e-4,
                                       seconds=args.wgan_minutes * 60)
    if setting == "tf1-legacy-graph":
        samples, run_settings = os.path.join(work, "samples"), legacy_graph_settings(seed, args.steps)
    else:
        run = RunFolder.open(work, RECIPES)
        samples, run_settings = run.samples_dir, run.config.to_dict()
    # A diverged run's strip ends at its last finite grid.
    drawn = [int(file.split("_")[1]) for file in os.listdir(samples)] if os.path.isdir(samples) else []
    last_grid = done if outcome.get("diverged_at") is None else max(drawn, default=-1) + 1
    grid = None
    if model is not None:
        result, grid = score(scorer, model, batch_size, name, args.out)
    else:
        # Nothing finite to score: keep the last grid it drew, if it drew one.
        result = {"classifier_score": None, "frechet_distance": None, "class_fractions": None}
        if drawn:
            grid = os.path.join(args.out, f"{name}.png")
            shutil.copy(os.path.join(samples, f"sample_{last_grid - 1}_epoch.png"), grid)
    strip = progress_strip(samples, last_grid, os.path.join(args.out, f"{name}-progress.png")) if drawn else None
    row = make_row(setting, seed, done, timing, grid and os.path.relpath(grid, args.out),
                   strip and os.path.relpath(strip, args.out), outcome, result)
    settings = {"arguments": vars(args), "run": run_settings,
                "scoring": {**SCORING, "batch_size": batch_size}}
    row = write_row(os.path.join(args.out, f"{name}.json"), row, settings, started)
    print(f"[quality] {name}: {json.dumps({k: v for k, v in row.items() if k != 'provenance'})}", flush=True)
    return row


def make_row(setting, seed, iterations, timing, grid, progress, outcome, result):
    """One run's row: what it was, how long it trained, its pictures, how it ended, its scores."""
    return dict(setting=setting, seed=seed, iterations=iterations, seconds=timing.get("seconds"),
                training=training_record(timing), grid=grid, progress=progress, **outcome, **result)


def write_row(path, row, settings, started=None):
    """One run's results file: its row, and the provenance of the process that scored it."""
    return shared.write_results(path, row, settings, started)


# Each metric, and the bound a run that ended in NaN weights stands for: worse than any
# finite score (the classifier score's floor is 1, one class; a largest class of 1).
METRICS = {"classifier_score": (lambda r: r["classifier_score"], "low", 1.0),
           "frechet_distance": (lambda r: r["frechet_distance"], "high", float("inf")),
           "largest_class": (lambda r: max(r["class_fractions"]), "high", 1.0)}


def spread(rows):
    """Per setting: the range over seeds of each metric, and whether the port lands inside
    the legacy graph's range (the yardstick of the issue).

    Only runs scored at their last iteration make a range. A run that diverged (the
    original's graph can: quirk Q8) is counted apart, and stretches its setting's range to
    the worst end: its final weights are NaN, no model at all.
    """
    ranges, diverged, finished = {}, {}, {}
    for row in rows:
        setting = row["setting"]
        ranges.setdefault(setting, {})
        if row.get("diverged_at") is not None:
            diverged[setting] = diverged.get(setting, 0) + 1
            continue
        finished[setting] = finished.get(setting, 0) + 1
        for metric, (get, _, _) in METRICS.items():
            low, high = ranges[setting].get(metric, (float("inf"), float("-inf")))
            ranges[setting][metric] = (min(low, get(row)), max(high, get(row)))
    lines = []
    # The yardstick: the original's graph; without it (the speed options' short runs), the
    # port's default mode.
    yardstick = "tf1-legacy-graph" if "tf1-legacy-graph" in ranges else "port-legacy"
    reference_runs = finished.get(yardstick, 0) + diverged.get(yardstick, 0)
    for setting in ranges:
        runs = finished.get(setting, 0) + diverged.get(setting, 0)
        counted = f"{runs} seed{'s' * (runs != 1)}"
        if diverged.get(setting):
            counted += f", {diverged[setting]} diverged to NaN before the end"
        for metric, (low, high) in ranges[setting].items():
            verdict = ""
            if setting.startswith("port-") and setting != yardstick and yardstick in ranges:
                if reference_runs < 2:
                    verdict = f"; {yardstick} has {reference_runs} seed so far: no spread to compare with yet"
                else:
                    ref_low, ref_high = ranges[yardstick].get(metric, (float("inf"), float("-inf")))
                    _, worse_end, worst = METRICS[metric]
                    if diverged.get(yardstick):
                        ref_low, ref_high = (worst, ref_high) if worse_end == "low" else (ref_low, worst)
                    # Two seeds give a range that a third draw of the same program misses two
                    # times in three, so "outside" alone is weak evidence: say whether the
                    # ranges overlap at all.
                    if ref_low <= low and high <= ref_high:
                        verdict = "inside"
                    elif low <= ref_high and ref_low <= high:
                        verdict = "overlapping, not inside"
                    else:
                        verdict = "disjoint from"
                    verdict = f"; {verdict} {yardstick}'s [{ref_low:.3f}, {ref_high:.3f}]"
                    if diverged.get(yardstick):
                        verdict += f" (its {worse_end} end: the run{'s' * (diverged[yardstick] > 1)} that diverged)"
            lines.append(f"{setting} ({counted}): {metric} {low:.3f} to {high:.3f}{verdict}")
        if not ranges[setting]:
            lines.append(f"{setting} ({counted}): no run reached its last iteration")
    return lines


def spread_table(rows):
    """Per setting, a markdown table: how many runs finished and how many died (and where),
    and each metric's median and range over the runs that finished. A run that died is
    left out of the medians: its last snapshot is not where the recipe ends."""
    by_setting = {}
    for row in rows:
        by_setting.setdefault(row["setting"], []).append(row)
    lines = ["| setting | runs | died to inf/NaN | classifier score | Frechet distance | largest class |",
             "|---|---:|---|---|---|---|"]
    for setting, group in by_setting.items():
        died = sorted(row["diverged_at"] for row in group if row.get("diverged_at") is not None)
        finished = [row for row in group if row.get("diverged_at") is None]
        cells = []
        for metric, (get, _, _) in METRICS.items():
            values = sorted(get(row) for row in finished)
            digits = 3 if metric == "largest_class" else 2 if metric == "classifier_score" else 1
            cells.append("-" if not values else f"{values[0]:.{digits}f}" if len(values) == 1 else
                         f"median {np.median(values):.{digits}f} ({values[0]:.{digits}f} to {values[-1]:.{digits}f})")
        dead = (f"{len(died)} (at {', '.join(str(at) for at in died)})" if died else "0")
        lines.append(f"| {setting} | {len(group)} | {dead} | {' | '.join(cells)} |")
    return "\n".join(lines)


CEILING_FILE = "ceiling.json"


def read_rows(out_dir):
    """The rows of every run scored in ``out_dir`` (its ``<setting>-seed<S>.json`` files), in table order."""
    rows = shared.read_run_rows(out_dir)
    rows.sort(key=lambda r: (SETTINGS.index(r["setting"].split("+")[0]), r["setting"], r["seed"]))
    return rows


def read_ceiling(out_dir):
    """The real held-out digits' scores kept in ``out_dir``, or None."""
    path = os.path.join(out_dir, CEILING_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def write_ceiling(out_dir, scores):
    """The real held-out digits' scores, with their provenance, to ``out_dir``/ceiling.json."""
    return shared.write_results(os.path.join(out_dir, CEILING_FILE), scores,
                                {"what": "the scores of the classifier's 2,000 held-out real digits"})


def commit_of(row, out_dir):
    """The table's commit cell: the commit that wrote the row's file.

    ``†``: reconstructed from the git history (the commit that added the file); ``+``: the
    code differed from the commit (files modified, other than this output folder's).
    """
    record = row.get("provenance") or {}
    cell = (record.get("commit") or "?")[:7]
    if record.get("reconstructed"):
        return cell + "†"
    own = os.path.relpath(os.path.abspath(out_dir), shared.ROOT) + os.sep
    if any(not path.startswith(own) for path in record.get("modified") or ()):
        cell += "+"
    return cell


def format_table(rows, ceiling, out_dir):
    """The docs/results.md table of ``rows`` under the ``ceiling`` row, its footnotes and the spread."""
    lines = ["| setting | seed | iterations | wall time | classifier score | Frechet distance | largest class "
             "| commit |",
             "|---|---|---|---|---|---|---|---|"]
    for row in [dict(setting="real held-out digits", seed="-", iterations="-", seconds=None, **ceiling)] + rows:
        wall = f"{row['seconds'] / 60:.0f} min" if row.get("seconds") else "-"
        training = row.get("training") or {}
        if training.get("measured_by") == "file times":
            wall += " (file times)"
        if training.get("cores") == 1:
            wall += " (1 core)"
        iterations = row["iterations"]
        if row.get("diverged_at") is not None:
            scored = row.get("scored_at")
            iterations = (f"inf/NaN at {row['diverged_at']}; "
                          + (f"scored at {scored}" if scored else "no snapshot to score"))
        if row["classifier_score"] is None:
            scores = "- | - | -"
        else:
            scores = (f"{row['classifier_score']:.2f} | {row['frechet_distance']:.2f} | "
                      f"{max(row['class_fractions']):.3f}")
        lines.append(f"| {row['setting']} | {row['seed']} | {iterations} | {wall} | {scores} "
                     f"| {commit_of(row, out_dir)} |")
    cells = [line.rsplit("|", 2)[1].strip() for line in lines[2:]]
    notes = ["commit: the commit whose code wrote the row; its file's `provenance` has the settings, "
             "the packages, the machine and the load."]
    if any(cell.endswith("+") for cell in cells):
        notes.append("+: the code had uncommitted changes (the file's `provenance` lists the files).")
    if any(cell.endswith("†") for cell in cells):
        notes.append("†: written before results files recorded their provenance; the commit is the one that "
                     "added the file, and the machine, the package versions and the load were not recorded.")
    if any("(file times)" in line for line in lines):
        notes.append("(file times): the run died before it recorded its time; the time between its first "
                     "and last files.")
    if any("(1 core)" in line for line in lines):
        notes.append("(1 core): the training process could use one core.")
    return ("\n".join(lines) + "\n\n" + "\n".join(notes) + "\n\n"
            + "\n".join(f"* {line}" for line in spread(rows)) + "\n\n"
            + "Per setting (medians and ranges over the runs that reached their last iteration):\n\n"
            + spread_table(rows))


def report(out_dir, ceiling=None, settings=None):
    """The table of every run scored in ``out_dir``, rebuilt from its files alone
    (``results.md``, ``results.json``). ``ceiling``: default ``out_dir``'s ceiling.json."""
    rows = read_rows(out_dir)
    ceiling = ceiling or read_ceiling(out_dir)
    table = format_table(rows, ceiling, out_dir)
    # Taken before writing, so the state of the code is not confused with this step's output.
    record = {"ceiling": ceiling, "runs": rows, "provenance": shared.provenance(settings)}
    with open(os.path.join(out_dir, "results.md"), "w") as handle:
        handle.write(table + "\n")
    shared.write_json(os.path.join(out_dir, "results.json"), record)
    return table


def setting_name(text):
    base, *options = text.split("+")
    known = set(options) <= set(shared.SHORT_NAMES)
    if base not in SETTINGS or (options and not base.startswith("port-")) or not known:
        raise argparse.ArgumentTypeError(f"unknown setting {text!r}: one of {', '.join(SETTINGS)}, "
                                         f"port ones optionally with +{'/+'.join(sorted(shared.SHORT_NAMES))}")
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--wgan-minutes", type=float, default=30.0)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), type=setting_name,
                        help=f"from {', '.join(SETTINGS)}; a port setting may add speed options "
                             f"joined by '+' from {sorted(shared.SHORT_NAMES)}, e.g. port-legacy+bf16 "
                             f"(default: {' '.join(SETTINGS)})")
    parser.add_argument("--out", default="docs/quality")
    parser.add_argument("--work", default="runs/quality", help="where the run folders go")
    parser.add_argument("--force", action="store_true", help="redo runs already scored in --out")
    parser.add_argument("--report-only", action="store_true",
                        help="only rebuild the table from the files in --out (no training, no scoring)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    ceiling = read_ceiling(args.out)
    if not args.report_only or ceiling is None:
        scorer = MnistScorer()
        scores = scorer.ceiling()
        if ceiling is None or any(ceiling.get(key) != value for key, value in scores.items()):
            ceiling = write_ceiling(args.out, scores)
    if not args.report_only:
        images = data.read_images(EMBEDDED, (28, 28, 1))
        for setting in args.settings:
            for seed in args.seeds:
                if not args.force and os.path.exists(os.path.join(args.out, f"{setting}-seed{seed}.json")):
                    print(f"[quality] {setting}-seed{seed}: scored already (--force redoes it)", flush=True)
                    continue
                run_one(setting, seed, args, images, scorer)
    print(report(args.out, ceiling, {"arguments": vars(args)}))


if __name__ == "__main__":
    main()
