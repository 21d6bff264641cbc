"""Screen candidate recipes for ``genmnist train --preset``: train each for a wall-time budget
and score it every N iterations, as the raw generator and as the averaged one.

How ``--preset best`` was chosen (docs/results.md, "A recipe beyond the original's"): each
candidate is the vanilla GAN in fixed fidelity with some recipe fields changed. Run
candidates side by side, each pinned to a core, so that they share the machine alike::

    taskset -c 0 python -m benchmarks.preset_screen --name hinge-r1 --loss hinge --r1-weight 1 \\
        --minutes 14 --json docs/quality/screen-hinge-r1.json &
    taskset -c 1 python -m benchmarks.preset_screen --name hinge --loss hinge \\
        --minutes 14 --json docs/quality/screen-hinge.json

Each evaluation scores 1,000 samples of z seed 0 with ``genmnist evaluate``'s scorer: the
raw generator normalised by batch statistics (batches of the training batch size), and the
averaged generator as ``generate`` uses it (its own estimated statistics). One row per
evaluation is printed and the results file is rewritten after each.
"""

import argparse
import dataclasses
import os
import sys
import time

import keras
import numpy as np

from benchmarks import shared
from common import latents, training
from common.adversarial import build_model
from common.evaluation import generate_images
from genmnist import cli as mnist_cli
from genmnist import models

SAMPLES = 1000


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.preset_screen", description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True, help="the candidate's name in the output")
    parser.add_argument("--minutes", type=float, default=14.0, help="wall-time budget (default 14)")
    parser.add_argument("--every", type=int, default=1000, help="evaluate every N iterations (default 1000)")
    parser.add_argument("--loss", default="hinge", choices=("minimax", "hinge"))
    parser.add_argument("--r1-weight", type=float, default=0.0, help="gamma of the R1 penalty (default 0)")
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--ema-decay", type=float, default=0.999)
    parser.add_argument("--warm-up", type=int, default=0, help="discriminator-only steps first (default 0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the rows, with provenance, to this file")
    return parser.parse_args(argv)


def scores(scorer, images):
    result = scorer.score(images)
    return {"classifier_score": round(result["classifier_score"], 3),
            "frechet_distance": round(result["frechet_distance"], 2)}


def main(argv=None):
    args = parse(argv)
    from genmnist.classifier import MnistScorer

    started = shared.moment()
    recipe = dataclasses.replace(models.GAN, loss=args.loss, r1_weight=args.r1_weight,
                                 pretrain_steps=args.warm_up, beta1=args.beta1)
    keras.utils.set_random_seed(args.seed)
    model = build_model(recipe, "fixed", seed=args.seed, learning_rate=args.learning_rate,
                        ema_decay=args.ema_decay)
    images = mnist_cli.read_mnist(None, recipe)
    scorer = MnistScorer(print_fn=lambda *_: None)
    rows, step, clock = [], 0, time.time()
    while time.time() - clock < args.minutes * 60:
        training.fit_steps(model, images, args.batch_size, args.seed, step, args.every)
        step += args.every
        minutes = (time.time() - clock) / 60
        raw = generate_images_with_batch_statistics(model, args.batch_size)
        with model.averages.in_generator():
            averaged = generate_images(model, SAMPLES, 0, args.batch_size)
        row = {"name": args.name, "iteration": model.iteration, "minutes": round(minutes, 2),
               "raw": scores(scorer, raw), "averaged": scores(scorer, averaged)}
        rows.append(row)
        print(row, flush=True)
        if args.json:
            shared.write_results(args.json, {"rows": rows}, vars(args), started)
    return 0


def generate_images_with_batch_statistics(model, batch_size):
    z = latents.sample_latents(SAMPLES, model.recipe.z_dim, 0)
    chunks = [np.asarray(model.generate(z[k:k + batch_size], batch_statistics=True))
              for k in range(0, SAMPLES, batch_size)]
    return np.clip(np.concatenate(chunks), 0.0, 1.0)


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.exit(f"run it from the repository root as: python -m benchmarks.{os.path.basename(__file__)[:-3]}")
    sys.exit(main())
