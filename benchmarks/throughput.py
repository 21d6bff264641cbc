"""Training throughput of the port against the original's TF1 graph (GitHub issue 8).

For each model (``gan``, ``wgan``, ``face``), in ONE process on one machine at one batch
size, this times the steady-state training iterations of

* ``legacy``: the original's graph (:mod:`common.legacy_tf1`) driven as the original
  drove it: NumPy z draws, the next real batch sliced in NumPy, one ``session.run`` with a
  ``feed_dict`` per optimiser step (``train_iteration``). It does not write the
  TensorBoard summaries the original wrote every iteration, so it is a little faster
  than the original was: the ratios below are conservative;
* the port, through ``fit`` with the callbacks ``train`` uses (loss logging, the sample
  schedule), in each variant asked for: ``port`` (the default: float32, parity with the
  original kept), ``bf16`` (``--precision mixed_bfloat16``), ``f16`` (mixed_float16),
  ``jit`` (``--jit-compile``), ``fused`` (``--fused-discriminator``), and combinations
  joined by ``+`` (``bf16+fused``); ``two-pass`` is ``port`` running the generator twice
  per vanilla-GAN iteration, as the original did (it times the reuse of the pass);
  ``preset`` is the model's ``--preset best`` recipe (the faces: 2 critic steps an
  iteration, not 5), its speed options left to the other names: ``preset+bf16+fused`` is
  the preset as it trains; ``FIELD=VALUE`` changes one recipe field, to take an iteration
  apart (``preset+bf16+fused+discriminator_steps=1+penalty_weight=0``).

Timed blocks of every side take turns (legacy, port, bf16, ..., legacy, port, ...), so
background load hits all sides alike; each block's first iteration is left out (the fit
set-up, the prefetch starting). Per side: the median over blocks of iterations per
second and of real images per second (one iteration consumes one real batch), and the
median over rounds of the ratio to the legacy block of the same round (to the first
variant's, without ``legacy``). Also the median process CPU seconds per iteration (all
threads) and its ratio: on a busy machine the wall-clock rates swing with the load, the
CPU time a side spends much less.

Also, per side:

* peak memory: the maximum resident set size of a separate process that builds the side
  and trains a few iterations (``resource.getrusage``; the TensorFlow runtime alone, the
  same for every side, is reported as the baseline);
* achieved FLOP/s against this machine's measured matmul peak: the FLOPs of one training
  iteration are counted by ``tf.profiler`` on the original's graph (its train ops, pruned
  to what each ``session.run`` executes, at this batch size; matmuls and convolutions,
  forward and backward), the same work for every side, times its iterations per second.
  The peak is the best of a few timed 4096x4096 ``tf.matmul`` (float32, and bfloat16 for
  the bfloat16 sides).

Run from the repository root::

    python -m benchmarks.throughput                                  # all models, default variants
    python -m benchmarks.throughput --models gan --variants port bf16 bf16+fused jit
    python -m benchmarks.throughput --models face --batch-size 16 --rounds 2 --block 3
    python -m benchmarks.throughput --models wgan face --variants port --batch-size 64 --no-memory
    python -m benchmarks.throughput --models gan --variants port two-pass --rounds 12 --block 20 --no-memory

(the last: seconds per iteration of the WGAN-GP models, the port alone). ``--json FILE``
writes the figures with their provenance (commit, settings, packages, machine, load).
Figures measured on a loaded machine are noisy; the ratio is the robust figure.
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.throughput")

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import common  # noqa: E402,F401  (quietens TensorFlow)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import shared  # noqa: E402
from common import data  # noqa: E402
from common.adversarial import AdversarialModel, build_model  # noqa: E402
from common.callbacks import TrainingMonitor  # noqa: E402
from common.legacy_tf1.graphs import LegacyGraph  # noqa: E402
from common.run import RunFolder  # noqa: E402
from common.settings import SETTINGS  # noqa: E402
from common.latents import sample_latents  # noqa: E402

DEFAULT_VARIANTS = ("legacy", "port", "fused", "bf16", "bf16+fused", "jit")
# Iterations per timed block and rounds, by model (faces: one iteration is ~25x the MNIST WGAN's).
DEFAULT_BLOCK = {"gan": 12, "wgan": 4, "face": 3}
DEFAULT_ROUNDS = {"gan": 4, "wgan": 3, "face": 2}


def recipe_of(name):
    if name == "face":
        from genface.models import FACE

        return FACE
    from genmnist.models import RECIPES

    return RECIPES[name]


def real_images(name, batch_size):
    if name == "face":
        from genface.cartoon import draw_faces

        return draw_faces(max(4 * batch_size, 64), seed=0)
    from genmnist import EMBEDDED

    return data.read_images(EMBEDDED, (28, 28, 1))


def port_options(variant):
    """The speed options of a port variant: ``port`` (the defaults) or short names joined by '+'."""
    names = [] if variant in ("port", "two-pass") else [n for n in variant.split("+") if n != "preset" and "=" not in n]
    try:
        return shared.speed_options(names)
    except ValueError as error:
        raise SystemExit(f"unknown variant {variant!r} ({error}), or 'port', 'two-pass', 'legacy', "
                         f"'preset', FIELD=VALUE") from None


def recipe_arguments(name, variant):
    """``build_model``'s arguments beyond the speed options, from a variant's other names.

    ``preset``: the model's ``--preset best``, its recipe changes (the faces' 2 critic
    steps) and settings, the speed options left to the variant's other names
    (``preset+bf16+fused`` is the preset as it trains). ``FIELD=VALUE``: one recipe field
    changed, to take an iteration apart (``discriminator_steps=1``, ``penalty_weight=0``).
    """
    names = variant.split("+")
    arguments = {}
    if "preset" in names:
        if name == "face":
            from genface.models import PRESETS
        else:
            from genmnist.models import PRESETS
        chosen = PRESETS["best"]
        if chosen.model != name:
            raise SystemExit(f"variant {variant!r}: --preset best is {chosen.model}'s, not {name}'s")
        # The preset's settings that build the model, the speed options and the seed aside.
        arguments.update((key, value) for key, value in chosen.settings
                         if SETTINGS[key].builds and key not in shared.SPEED_OPTIONS and key != "seed")
        arguments.update(chosen.changes)
    recipe = recipe_of(name)
    for change in (n for n in names if "=" in n):
        field, value = change.split("=", 1)
        if not hasattr(recipe, field):
            raise SystemExit(f"variant {variant!r}: the recipe has no field {field!r}")
        kind = type(getattr(recipe, field))
        arguments[field] = value.lower() in ("1", "true") if kind is bool else kind(value)
    return arguments


class TwoPassModel(AdversarialModel):
    """The port's model making the generator pass twice per iteration, as the original did."""

    reuses_generator_pass = False


# --- the two sides ---------------------------------------------------------------------------


class LegacySide:
    """The original's loop: NumPy draws and slices, feed_dict session runs."""

    def __init__(self, name, batch_size, images):
        self.graph = LegacyGraph.build(name, batch_size=batch_size, seed=0)
        self.name, self.batch_size = name, batch_size
        self.images = images.astype(np.float32) / 255.0  # the original held float data
        self.index = 0
        self.rng = np.random.default_rng(0)
        self.z_dim = self.graph.config.z_dim
        self.critic_steps = self.graph.config.critic_steps

    def block(self, iterations):
        ends = []
        for _ in range(iterations):
            if self.index + self.batch_size > len(self.images):
                self.index = 0
            x = self.images[self.index:self.index + self.batch_size]
            self.index += self.batch_size
            draws = 1 if self.name == "gan" else self.critic_steps + 1
            zs = [self.rng.normal(0, 1, (self.batch_size, self.z_dim)).astype(np.float32) for _ in range(draws)]
            self.graph.train_iteration(x, zs[0] if self.name == "gan" else zs)
            ends.append(time.perf_counter())
        return ends


class PortSide:
    """The port's model in one variant, trained by ``fit`` with ``train``'s callbacks."""

    def __init__(self, name, batch_size, images, options, scratch, recipe_arguments=None):
        recipe = recipe_of(name)
        keras.utils.set_random_seed(0)
        self.model = build_model(recipe, seed=0, **options, **(recipe_arguments or {}))
        self.images, self.batch_size = images, batch_size
        # Far from any sample-grid iteration (the schedule shows every 100,000th there),
        # so blocks time the plain iterations of a long run.
        self.step = recipe.pretrain_steps + 100_001
        self.model.step_counter.assign(self.step)
        config = {"model": name, "fidelity": "legacy", "seed": 0, "batch_size": batch_size,
                  "learning_rate": recipe.default_learning_rate, "z_dim": recipe.z_dim,
                  "image_shape": list(recipe.image_shape), "data": None, "steps": 10 ** 9, **options}
        run = RunFolder.create(tempfile.mkdtemp(dir=scratch), config)
        self.monitor = TrainingMonitor(run, run.manager(self.model), 10 ** 9,
                                       sample_latents(64, recipe.z_dim, 0), checkpoint_every=0,
                                       print_fn=lambda *args: None)

    def block(self, iterations):
        clock = shared.IterationClock()
        stream = data.batches(self.images, self.batch_size, 0, start_step=self.step, steps=iterations)
        self.model.fit(stream, epochs=1, steps_per_epoch=iterations, callbacks=[self.monitor, clock],
                       verbose=0, shuffle=False)
        self.step += iterations
        return clock.ends


def make_side(name, variant, batch_size, images, scratch):
    if variant == "legacy":
        return LegacySide(name, batch_size, images)
    side = PortSide(name, batch_size, images, port_options(variant), scratch, recipe_arguments(name, variant))
    if variant == "two-pass":
        side.model.__class__ = TwoPassModel  # before its first step is traced
    return side


def rate(ends):
    """Iterations per second between the first and the last iteration end of a block."""
    return (len(ends) - 1) / (ends[-1] - ends[0])


# --- FLOPs and the matmul peak -----------------------------------------------------------------


def iteration_flops(name, batch_size):
    """FLOPs of one training iteration of the original, counted by tf.profiler.

    The original's graph is built with the batch dimension of its placeholders fixed (the
    vanilla GAN's are ``[None, ...]``; ``fixed_batch``), so every op has a static shape;
    each train op's graph is pruned to what its ``session.run`` executes, and the profiler
    sums the registered FLOP counts of those ops. Returns (all FLOPs, matmul + convolution
    FLOPs).
    """
    with LegacyGraph.build(name, batch_size=batch_size, seed=0, fixed_batch=True) as legacy:
        graph_def = legacy.graph.as_graph_def()
        counts = {}
        for key, op in {"d": legacy.train_d_op, "g": legacy.train_g_op}.items():
            graph = tf.Graph()
            with graph.as_default():
                tf.compat.v1.import_graph_def(tf.compat.v1.graph_util.extract_sub_graph(graph_def, [op.name]),
                                              name="")
                options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
                options["output"] = "none"
                total = tf.compat.v1.profiler.profile(graph, options=options).total_float_ops
                options["account_type_regexes"] = [".*MatMul.*", "Conv2D.*"]
                dense = tf.compat.v1.profiler.profile(graph, options=options).total_float_ops
            counts[key] = (total, dense)
        critic_steps = legacy.config.critic_steps
    return tuple(critic_steps * counts["d"][i] + counts["g"][i] for i in range(2))


def matmul_peak(dtype, sizes=(512, 1024, 2048), seconds=0.5, repeats=3):
    """The best FLOP/s of square ``tf.matmul`` on this machine: its practical peak.

    The best over a few sizes (on a 2-core CPU the smaller ones often run closest to the
    peak) and over repeated timings of about ``seconds`` each, since background load only
    ever makes a timing slower.
    """
    best = 0.0
    for size in sizes:
        a = tf.cast(tf.random.normal([size, size]), dtype)

        @tf.function
        def product(x):
            return tf.matmul(x, x)

        product(a).numpy()
        count = max(1, int(seconds * 1e11 / (2 * size ** 3)))
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(count):
                result = product(a)
            result.numpy()
            best = max(best, 2 * size ** 3 * count / (time.perf_counter() - started))
    return best


# --- peak memory (a process per side) ----------------------------------------------------------


def peak_rss_mib():
    """This process's peak resident set size, in MiB.

    Linux's ``VmHWM`` belongs to the address space, which ``exec`` replaces; the rusage
    maximum survives ``exec`` and so reports the PARENT's size in a freshly started child.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_probe(name, variant, batch_size, iterations):
    """Peak RSS (MiB) of this process after building ``variant`` and training ``iterations``."""
    baseline = peak_rss_mib()
    with tempfile.TemporaryDirectory() as scratch:
        side = make_side(name, variant, batch_size, real_images(name, batch_size), scratch)
        side.block(iterations)
    return {"baseline_mib": baseline, "peak_mib": peak_rss_mib()}


def measure_memory(name, variant, batch_size, iterations=2):
    command = [sys.executable, "-m", __spec__.name, "--memory-probe", name, variant,
               "--batch-size", str(batch_size), "--block", str(iterations)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=shared.ROOT)
    for line in done.stdout.splitlines()[::-1]:
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"memory probe {name} {variant} failed:\n{done.stderr[-2000:]}")


# --- the benchmark -------------------------------------------------------------------------------


def benchmark(name, variants, batch_size, rounds, block, memory=True, print_fn=print):
    images = real_images(name, batch_size)
    with tempfile.TemporaryDirectory() as scratch:
        sides = {}
        for variant in variants:
            sides[variant] = make_side(name, variant, batch_size, images, scratch)
            sides[variant].block(2)  # tracing, first allocations
        rates = {variant: [] for variant in variants}
        cpu = {variant: [] for variant in variants}  # process CPU seconds per iteration
        for round_index in range(rounds):
            for variant in variants:
                started = time.process_time()
                rates[variant].append(rate(sides[variant].block(block)))
                cpu[variant].append((time.process_time() - started) / block)
            print_fn(f"  {name} round {round_index + 1}/{rounds}: "
                     + ", ".join(f"{v} {rates[v][-1]:.3g} it/s ({cpu[v][-1]:.3g} CPU s/it)" for v in variants)
                     + f"  (load {os.getloadavg()[0]:.1f})")
        del sides
    baseline = "legacy" if "legacy" in rates else variants[0]
    result = {"model": name, "batch_size": batch_size, "rounds": rounds, "block": block, "baseline": baseline,
              "sides": {}}
    for variant in variants:
        side = {"it_per_s": statistics.median(rates[variant]), "all_it_per_s": rates[variant],
                "cpu_s_per_it": statistics.median(cpu[variant]), "all_cpu_s_per_it": cpu[variant]}
        side["images_per_s"] = side["it_per_s"] * batch_size
        side["ratio"] = statistics.median(r / b for r, b in zip(rates[variant], rates[baseline]))
        side["cpu_ratio"] = statistics.median(b / c for c, b in zip(cpu[variant], cpu[baseline]))
        result["sides"][variant] = side
    if memory:
        for variant in variants:
            result["sides"][variant].update(measure_memory(name, variant, batch_size))
    return result


def format_table(results, flops, peaks):
    lines = ["| model | batch | side | it/s | images/s | vs baseline | CPU s/it | vs baseline (CPU) | "
             "peak RSS MiB | GFLOP/s | of matmul peak |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        name, batch = result["model"], result["batch_size"]
        dense = flops[name][1]
        for variant, side in result["sides"].items():
            achieved = dense * side["it_per_s"]
            peak = peaks["bfloat16" if "bf16" in variant else "float32"]
            memory = f"{side['peak_mib']:.0f}" if "peak_mib" in side else "-"
            # The FLOPs counted are the original's iteration; a changed recipe's does other work.
            changed = variant != "legacy" and recipe_arguments(name, variant)
            rate = "- | -" if changed else f"{achieved / 1e9:.1f} | {100 * achieved / peak:.0f}%"
            lines.append(f"| {name} | {batch} | {variant} | {side['it_per_s']:.3g} | {side['images_per_s']:.4g} | "
                         f"{side['ratio']:.2f}x | {side['cpu_s_per_it']:.3g} | {side['cpu_ratio']:.3f}x | "
                         f"{memory} | {rate} |")
    lines.append("(baseline: " + ", ".join(f"{r['model']} {r['baseline']}" for r in results) + ")")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["gan", "wgan", "face"], choices=["gan", "wgan", "face"])
    parser.add_argument("--variants", nargs="+", default=None,
                        help=f"legacy, port, two-pass, or port options joined by '+' from {sorted(shared.SHORT_NAMES)} "
                             f"(default: {' '.join(DEFAULT_VARIANTS)}; without jit for the faces "
                             f"on a CPU, where XLA is several times slower)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default: the original's (gan 128, wgan 64), faces 16 (64 on a GPU)")
    parser.add_argument("--rounds", type=int, default=None, help="timed blocks per side")
    parser.add_argument("--block", type=int, default=None, help="iterations per timed block (at least 2)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    parser.add_argument("--json", default=None,
                        help="also write the results, with their provenance, to this file")
    parser.add_argument("--memory-probe", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_probe:
        name, variant = args.memory_probe
        print(json.dumps(memory_probe(name, variant, args.batch_size, args.block or 2)))
        return None
    started = shared.moment()
    print(shared.summary(shared.provenance(vars(args), started)))
    gpus = tf.config.list_physical_devices("GPU")
    device = ", ".join(d.name for d in gpus) if gpus else f"CPU only, {os.cpu_count()} cores"
    peaks = {"float32": matmul_peak(tf.float32), "bfloat16": matmul_peak(tf.bfloat16)}
    print(f"matmul peak: float32 {peaks['float32'] / 1e9:.1f} GFLOP/s, bfloat16 {peaks['bfloat16'] / 1e9:.1f} GFLOP/s")
    results, flops, chosen = [], {}, {}
    for name in args.models:
        recipe = recipe_of(name)
        batch = args.batch_size or (recipe.default_batch_size if name != "face" or gpus else 16)
        flops[name] = iteration_flops(name, batch)
        print(f"{name}: batch {batch}; one iteration = {flops[name][0] / 1e9:.1f} GFLOP "
              f"({flops[name][1] / 1e9:.1f} in matmuls and convolutions)")
        variants = args.variants or [v for v in DEFAULT_VARIANTS if gpus or name != "face" or v != "jit"]
        chosen[name] = {"batch_size": batch, "variants": variants, "rounds": args.rounds or DEFAULT_ROUNDS[name],
                        "block": max(args.block or DEFAULT_BLOCK[name], 2),
                        "speed_options": {v: port_options(v) for v in variants if v != "legacy"}}
        results.append(benchmark(name, variants, batch, chosen[name]["rounds"], chosen[name]["block"],
                                 memory=not args.no_memory))
    # Measured again at the end; the higher of the two is the peak (load only slows a timing).
    for dtype in peaks:
        peaks[dtype] = max(peaks[dtype], matmul_peak(tf.as_dtype(dtype)))
    print(f"\nmatmul peak (best of start and end): float32 {peaks['float32'] / 1e9:.1f} GFLOP/s, "
          f"bfloat16 {peaks['bfloat16'] / 1e9:.1f} GFLOP/s\n")
    print(format_table(results, flops, peaks))
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    record = {"device": device, "peaks": peaks, "flops": flops, "results": results}
    if args.json:
        record = shared.write_results(args.json, record, {"arguments": vars(args), "per_model": chosen}, started)
        print(f"written to {args.json}")
    return record


if __name__ == "__main__":
    main()
