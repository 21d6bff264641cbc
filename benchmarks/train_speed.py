"""Seconds per training iteration of the WGAN-GP models on this machine.

One iteration is what the original's loop did per ``i``: five critic updates on one real
batch (each with its own z and penalty), then one generator update. The models are
trained with the port's own ``fit`` step and data stream; the first iterations (graph
tracing, memory warm-up) are left out, then the time between the ends of consecutive
iterations is measured and its median reported (the mean too, for the curious)::

    python benchmarks/train_speed.py                      # wgan and face, batch 64
    python benchmarks/train_speed.py --models face --steps 5 --batch-size 64
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common  # noqa: E402,F401  (quietens TensorFlow)
import keras  # noqa: E402

from common import data  # noqa: E402
from common.adversarial import build_model  # noqa: E402


class IterationClock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def real_images(model_name, batch_size):
    if model_name == "face":
        from genface import cartoon

        return cartoon.draw_faces(max(4 * batch_size, 256), seed=0)
    from genmnist.cli import EMBEDDED

    return data.read_images(EMBEDDED, (28, 28, 1))


def recipe_of(model_name):
    if model_name == "face":
        from genface.models import FACE

        return FACE
    from genmnist.models import RECIPES

    return RECIPES[model_name]


def time_model(model_name, batch_size, warmup, steps, fidelity="legacy"):
    keras.utils.set_random_seed(0)
    model = build_model(recipe_of(model_name), fidelity, seed=0)
    images = real_images(model_name, batch_size)
    clock = IterationClock()
    total = warmup + steps
    started = time.perf_counter()
    model.fit(data.batches(images, batch_size, seed=0, steps=total), epochs=1, steps_per_epoch=total,
              callbacks=[clock], verbose=0)
    intervals = [b - a for a, b in zip(clock.ends[warmup - 1:], clock.ends[warmup:])]
    return {"first": clock.ends[0] - started, "median": statistics.median(intervals),
            "mean": statistics.fmean(intervals), "min": min(intervals), "n": len(intervals)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["wgan", "face"], choices=["gan", "wgan", "face"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=2, help="iterations left out (at least 1)")
    parser.add_argument("--steps", type=int, default=None,
                        help="iterations timed (default: 20 for the MNIST models, 8 for faces)")
    parser.add_argument("--fidelity", choices=("legacy", "fixed"), default="legacy")
    args = parser.parse_args(argv)
    print(f"CPU cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}, "
          f"batch {args.batch_size}, {args.fidelity} fidelity")
    for name in args.models:
        steps = args.steps or (8 if name == "face" else 20)
        result = time_model(name, args.batch_size, max(args.warmup, 1), steps, args.fidelity)
        print(f"{name:5s} {result['median']:.3f} s/iteration (median of {result['n']}; mean "
              f"{result['mean']:.3f}; min {result['min']:.3f}; first iteration with tracing {result['first']:.1f} s)  "
              f"({args.batch_size / result['median']:.1f} real images/s)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
