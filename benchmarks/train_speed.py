"""Seconds per training iteration of the WGAN-GP models: ``throughput`` with the port alone.

Kept as a short name for the command it runs,

    python -m benchmarks.throughput --models wgan face --variants port --batch-size 64 --no-memory

to which it passes any further arguments (the later ones win: ``--models face``,
``--rounds 2 --block 3``, ``--json FILE``), then prints each model's seconds per
iteration: five critic updates and one generator update on one real batch, the port's
default mode, the median over timed blocks after a warm-up that includes tracing::

    python -m benchmarks.train_speed
    python -m benchmarks.train_speed --models face --rounds 2 --block 3
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.train_speed")

import sys  # noqa: E402

from benchmarks import throughput  # noqa: E402

DEFAULTS = ["--models", "wgan", "face", "--variants", "port", "--batch-size", "64", "--no-memory"]


def main(argv=None):
    record = throughput.main(DEFAULTS + list(sys.argv[1:] if argv is None else argv))
    print()
    for result in record["results"]:
        for variant, side in result["sides"].items():
            print(f"{result['model']:5s} {variant}: {1 / side['it_per_s']:.3f} s/iteration at batch "
                  f"{result['batch_size']} ({side['images_per_s']:.1f} real images/s)")
    return record


if __name__ == "__main__":
    main()
