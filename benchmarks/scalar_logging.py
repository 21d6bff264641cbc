"""What writing the loss scalars to TensorBoard costs per training iteration (issue 16, item 5).

Three sides of one vanilla GAN (batch 128 by default), each trained through ``fit`` with
``train``'s monitor, far from any sample grid, taking turns block by block in ONE process:

* ``buffered``: the monitor as ``train`` runs it (the losses kept as numbers and written in
  one compiled call every ``SCALAR_FLUSH_EVERY`` iterations);
* ``keras``: the monitor without its scalars, and ``keras.callbacks.TensorBoard(log_dir,
  update_freq=1, write_graph=False)`` writing every iteration's losses;
* ``none``: the monitor without its scalars, no TensorBoard: the baseline.

Per side: the median seconds per iteration, and the seconds spent inside the TensorBoard
writing itself per iteration (the buffered writer's flushes, Keras' batch hooks), which
background load disturbs far less than whole iterations do::

    python -m benchmarks.scalar_logging
    python -m benchmarks.scalar_logging --rounds 8 --block 50 --json /tmp/scalars.json  # longer
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.scalar_logging")

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import common  # noqa: E402,F401  (quietens TensorFlow)
import keras  # noqa: E402

from benchmarks import shared  # noqa: E402
from common import data  # noqa: E402
from common.adversarial import build_model  # noqa: E402
from common.callbacks import TrainingMonitor  # noqa: E402
from common.run import RunFolder  # noqa: E402
from common.latents import sample_latents  # noqa: E402
from genmnist import EMBEDDED  # noqa: E402
from genmnist.models import GAN  # noqa: E402

SIDES = ("buffered", "keras", "none")


class Monitor(TrainingMonitor):
    """``train``'s monitor; its scalar flushes timed, or (``scalars=False``) dropped."""

    def __init__(self, *args, scalars=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.keep_scalars, self.seconds = scalars, 0.0

    def flush_scalars(self):
        if not self.keep_scalars:
            self.scalars = []
            return
        started = time.perf_counter()
        super().flush_scalars()
        self.seconds += time.perf_counter() - started


class TimedTensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback, the time in its per-batch hooks added up."""

    seconds = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        started = time.perf_counter()
        super().on_train_batch_begin(batch, logs)
        self.seconds += time.perf_counter() - started

    def on_train_batch_end(self, batch, logs=None):
        started = time.perf_counter()
        super().on_train_batch_end(batch, logs)
        self.seconds += time.perf_counter() - started


class Side:
    def __init__(self, name, batch_size, images, scratch):
        keras.utils.set_random_seed(0)
        self.model = build_model(GAN, seed=0, **shared.speed_options())
        self.images, self.batch_size = images, batch_size
        self.step = GAN.pretrain_steps + 100_001  # the schedule shows every 100,000th grid here
        self.model.step_counter.assign(self.step)
        config = {"model": "gan", "fidelity": "legacy", "seed": 0, "batch_size": batch_size,
                  "learning_rate": GAN.default_learning_rate, "z_dim": GAN.z_dim,
                  "image_shape": list(GAN.image_shape), "data": None, "steps": 10 ** 9}
        run = RunFolder.create(tempfile.mkdtemp(dir=scratch), config)
        self.monitor = Monitor(run, run.manager(self.model), 10 ** 9, sample_latents(64, GAN.z_dim, 0),
                               checkpoint_every=0, print_fn=lambda *a: None, scalars=name == "buffered")
        self.callbacks = [self.monitor]
        if name == "keras":
            self.callbacks.append(TimedTensorBoard(os.path.join(run.logs_dir, "keras"), update_freq=1,
                                                   write_graph=False))

    @property
    def writing_seconds(self):
        return sum(getattr(callback, "seconds", 0.0) for callback in self.callbacks)

    def block(self, iterations):
        """(seconds per iteration between the first and last iteration end, seconds writing)."""
        clock, before = shared.IterationClock(), self.writing_seconds
        stream = data.batches(self.images, self.batch_size, 0, start_step=self.step, steps=iterations)
        self.model.fit(stream, epochs=1, steps_per_epoch=iterations, callbacks=[*self.callbacks, clock],
                       verbose=0, shuffle=False)
        self.monitor.flush_scalars()  # what train does at the end; in every block, so all are alike
        self.step += iterations
        return ((clock.ends[-1] - clock.ends[0]) / (len(clock.ends) - 1),
                (self.writing_seconds - before) / iterations)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=GAN.default_batch_size)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--block", type=int, default=100, help="iterations per timed block (at least 2)")
    parser.add_argument("--json", default=None, help="also write the figures, with provenance, to this file")
    args = parser.parse_args(argv)
    started = shared.moment()
    print(shared.summary(shared.provenance(vars(args), started)))
    images = data.read_images(EMBEDDED, (28, 28, 1))
    per_iteration = {side: [] for side in SIDES}
    writing = {side: [] for side in SIDES}
    with tempfile.TemporaryDirectory() as scratch:
        sides = {name: Side(name, args.batch_size, images, scratch) for name in SIDES}
        for side in sides.values():
            side.block(3)  # tracing, first allocations, the writers' first calls
        for round_index in range(args.rounds):
            for name, side in sides.items():
                seconds, spent = side.block(max(args.block, 2))
                per_iteration[name].append(seconds)
                writing[name].append(spent)
            print(f"round {round_index + 1}/{args.rounds}: "
                  + ", ".join(f"{n} {1000 * per_iteration[n][-1]:.1f} ms (writing {1000 * writing[n][-1]:.2f})"
                              for n in SIDES) + f"  (load {os.getloadavg()[0]:.1f})")
    base = statistics.median(per_iteration["none"])
    results = {}
    for name in SIDES:
        median = statistics.median(per_iteration[name])
        results[name] = {"seconds_per_iteration": median, "all_seconds_per_iteration": per_iteration[name],
                         "writing_seconds_per_iteration": statistics.median(writing[name]),
                         "all_writing_seconds_per_iteration": writing[name],
                         "over_none_per_iteration": statistics.median(
                             s - n for s, n in zip(per_iteration[name], per_iteration["none"]))}
        spent, over = results[name]["writing_seconds_per_iteration"], results[name]["over_none_per_iteration"]
        print(f"{name:8s}: {1000 * median:.1f} ms per iteration; writing {1000 * spent:.2f} ms "
              f"({100 * spent / base:.2f}% of an iteration); over 'none' {1000 * over:+.1f} ms")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.json:
        shared.write_results(args.json, {"batch_size": args.batch_size, "sides": results}, vars(args), started)
        print(f"written to {args.json}")
    return results


if __name__ == "__main__":
    main()
