"""Generation throughput of exported SavedModels, in images per second.

Exports each generator the way ``python -m genmnist export`` / ``genface export`` does
(the vanilla GAN with re-estimated population statistics), loads the SavedModel back with
plain ``tf.saved_model.load`` and calls its ``serving_default`` signature, as TensorFlow
Serving would, at batch sizes 1, 64 and 1024. The weights are untrained by default:
throughput does not depend on their values, only on the architecture (``--run`` measures a
trained run instead).

Run from the repository root::

    python -m benchmarks.export_throughput                       # gan, wgan, face
    python -m benchmarks.export_throughput --models gan --batches 1 64 --seconds 5
    python -m benchmarks.export_throughput --json export.json    # also the figures, with provenance

Each figure is total images over total time for as many calls as fit in ``--seconds``
(at least ``--min-calls``), after one untimed warm-up call at the same batch size. Run it
on an idle machine: other processes on the same cores lower every figure.
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
from common.run import RunFolder  # noqa: E402
from genface.models import RECIPES as FACE_RECIPES  # noqa: E402
from genmnist.models import RECIPES as MNIST_RECIPES  # noqa: E402

MODELS = {"gan": MNIST_RECIPES, "wgan": MNIST_RECIPES, "face": FACE_RECIPES}


def available_models():
    return list(MODELS)


def load(name, run_dir=None):
    recipes = MODELS[name]
    if run_dir:
        return RunFolder.open(run_dir, recipes).load_model(recipes)
    return build_model(recipes[name], seed=0)


def measure(serve, z_dim, batch, seconds, min_calls):
    z = tf.constant(np.random.default_rng(batch).standard_normal((batch, z_dim)).astype(np.float32))
    serve(z=z)  # warm-up: first-call allocations and kernel selection for this shape
    calls, start = 0, time.perf_counter()
    while True:
        result = serve(z=z)
        result["images_uint8"].numpy()  # wait for the outputs to exist
        calls += 1
        elapsed = time.perf_counter() - start
        if calls >= min_calls and elapsed >= seconds:
            return calls, elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=available_models(), choices=sorted(MODELS))
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 64, 1024])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement (default 3)")
    parser.add_argument("--min-calls", type=int, default=2, help="calls per measurement at least (default 2)")
    parser.add_argument("--run", default=None, help="a trained run folder to measure (with one --models)")
    parser.add_argument("--json", default=None, help="also write the figures, with their provenance, to this file")
    args = parser.parse_args(argv)

    started = shared.moment()
    print(shared.summary(shared.provenance(vars(args), started)))
    print(f"{'model':<6} {'batch':>6} {'calls':>6} {'ms/call':>10} {'images/s':>10}")
    figures = []
    with tempfile.TemporaryDirectory() as work:
        for name in args.models:
            model = load(name, args.run)
            path, _, _ = export.export_saved_model(model, os.path.join(work, name), samples=2000)
            serve = tf.saved_model.load(path).signatures[export.SIGNATURE]
            for batch in args.batches:
                calls, elapsed = measure(serve, model.recipe.z_dim, batch, args.seconds, args.min_calls)
                print(f"{name:<6} {batch:>6} {calls:>6} {1000 * elapsed / calls:>10.2f} "
                      f"{batch * calls / elapsed:>10.1f}", flush=True)
                figures.append({"model": name, "batch": batch, "calls": calls, "seconds": elapsed,
                                "ms_per_call": 1000 * elapsed / calls, "images_per_s": batch * calls / elapsed})
    print(f"load average after: {shared.moment()['load_average']}")
    if args.json:
        shared.write_results(args.json, {"figures": figures}, vars(args), started)
        print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
