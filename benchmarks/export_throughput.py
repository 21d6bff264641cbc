"""Generation throughput of exported generators, in images per second, with size and load time.

Exports each generator the way ``python -m genmnist export`` / ``genface export`` does
(the vanilla GAN with re-estimated population statistics) in each ``--formats``: the
SavedModel, loaded back with plain ``tf.saved_model.load`` and called through its
``serving_default`` signature as TensorFlow Serving would; LiteRT files (float32, float16
and int8 weights) run by ai-edge-litert's signature runner; the ONNX file run by
onnxruntime on the CPU. Each is measured at batch sizes 1 and 64, with its size on disk and
the time its runtime takes to load it. The weights are untrained by default: throughput
does not depend on their values, only on the architecture (``--run`` measures a trained run
instead).

Run from the repository root::

    python -m benchmarks.export_throughput                       # gan, wgan, face; every format
    python -m benchmarks.export_throughput --models gan --formats saved_model tflite --seconds 5
    python -m benchmarks.export_throughput --json export.json    # also the figures, with provenance
    python -m benchmarks.export_throughput --table export.json   # the table of docs/export.md, from the file

Each figure is total images over total time for as many calls as fit in ``--seconds``
(at least ``--min-calls``), after one untimed warm-up call at the same batch size; every
call returns NumPy arrays, as a client gets them. Each runtime uses its default threads. Run
it on an idle machine: other processes on the same cores lower every figure.
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.export_throughput")

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402


import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import shared  # noqa: E402
from common import export  # noqa: E402
from common.adversarial import build_model  # noqa: E402
from common.export_formats import Runtime  # noqa: E402
from common.run import RunFolder  # noqa: E402
from genface.models import RECIPES as FACE_RECIPES  # noqa: E402
from genmnist.models import RECIPES as MNIST_RECIPES  # noqa: E402

MODELS = {"gan": MNIST_RECIPES, "wgan": MNIST_RECIPES, "face": FACE_RECIPES}
# name: (export format, --quantize)
FORMATS = {"saved_model": ("saved_model", "none"), "tflite": ("tflite", "none"),
           "tflite-float16": ("tflite", "float16"), "tflite-dynamic": ("tflite", "dynamic"),
           "onnx": ("onnx", "none")}


def available_models():
    return list(MODELS)


def load(name, run_dir=None):
    recipes = MODELS[name]
    if run_dir:
        return RunFolder.open(run_dir, recipes).load_model(recipes)
    return build_model(recipes[name], seed=0)


def measure(serve, z_dim, batch, seconds, min_calls):
    z = np.random.default_rng(batch).standard_normal((batch, z_dim)).astype(np.float32)
    serve(z)  # warm-up: first-call allocations and kernel selection for this shape
    calls, start = 0, time.perf_counter()
    while True:
        serve(z)
        calls += 1
        elapsed = time.perf_counter() - start
        if calls >= min_calls and elapsed >= seconds:
            return calls, elapsed


def write(model, fmt, work, name):
    """The export of ``model`` in ``fmt`` (a FORMATS key) under ``work``: its path."""
    file_format, quantize = FORMATS[fmt]
    if file_format == "saved_model":
        path, _, _ = export.export_saved_model(model, os.path.join(work, name), samples=2000)
        return path
    path = os.path.join(work, f"{name}-{fmt}{export.FILE_FORMATS[file_format]}")
    export.export_file(model, path, file_format, quantize, samples=2000)
    return path


def load_serving(path, fmt):
    """``(serve(z) -> NumPy outputs, seconds its runtime took to load it)``."""
    start = time.perf_counter()
    if fmt == "saved_model":
        loaded = tf.saved_model.load(path)
        signature = loaded.signatures[export.SIGNATURE]

        def serve(z):
            return {key: value.numpy() for key, value in signature(z=tf.constant(z)).items()}
        serve.loaded = loaded  # the signature's variables live as long as the object
    else:
        serve = Runtime(path)
    return serve, time.perf_counter() - start


def table(figures):
    """The Markdown table of docs/export.md: a row per model and format."""
    batches = sorted({row["batch"] for row in figures})
    rows = {}
    for row in figures:
        rows.setdefault((row["model"], row["format"]), dict(row))[row["batch"]] = row["images_per_s"]
    lines = ["| model | format | size (MiB) | load (s) | " + " | ".join(f"batch {b} (images/s)" for b in batches) + " |",
             "|---|---|---:|---:|" + "---:|" * len(batches)]
    for (name, fmt), row in rows.items():
        speeds = " | ".join(f"{row[b]:,.0f}" if b in row else "" for b in batches)
        lines.append(f"| {name} | {fmt} | {row['bytes'] / 2 ** 20:.1f} | {row['load_s']:.2f} | {speeds} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=available_models(), choices=sorted(MODELS))
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=list(FORMATS))
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 64])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement (default 3)")
    parser.add_argument("--min-calls", type=int, default=2, help="calls per measurement at least (default 2)")
    parser.add_argument("--run", default=None, help="a trained run folder to measure (with one --models)")
    parser.add_argument("--json", default=None, help="also write the figures, with their provenance, to this file")
    parser.add_argument("--table", default=None, metavar="FILE", help="only print the table of a results file")
    args = parser.parse_args(argv)
    if args.table:
        return shared.print_table(args.table, lambda record: table(record["figures"]))

    started = shared.moment()
    print(shared.summary(shared.provenance(vars(args), started)))
    print(f"{'model':<6} {'format':<15} {'batch':>6} {'calls':>6} {'ms/call':>10} {'images/s':>10}")
    figures = []
    with tempfile.TemporaryDirectory() as work:
        for name in args.models:
            model = load(name, args.run)
            for fmt in args.formats:
                path = write(model, fmt, work, name)
                serve, load_s = load_serving(path, fmt)
                for batch in args.batches:
                    calls, elapsed = measure(serve, model.recipe.z_dim, batch, args.seconds, args.min_calls)
                    print(f"{name:<6} {fmt:<15} {batch:>6} {calls:>6} {1000 * elapsed / calls:>10.2f} "
                          f"{batch * calls / elapsed:>10.1f}", flush=True)
                    figures.append({"model": name, "format": fmt, "batch": batch, "calls": calls,
                                    "seconds": elapsed, "ms_per_call": 1000 * elapsed / calls,
                                    "images_per_s": batch * calls / elapsed, "bytes": shared.size_on_disk(path),
                                    "load_s": load_s})
    print(f"load average after: {shared.moment()['load_average']}")
    return shared.report({"figures": figures}, lambda results: table(results["figures"]), args.json, vars(args),
                         started)


if __name__ == "__main__":
    sys.exit(main())
