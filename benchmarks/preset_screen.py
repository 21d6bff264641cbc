"""Screen candidate recipes for ``train --preset``: train each for a wall-time budget and score
it every N iterations, as the raw generator and as the averaged one.

How the ``--preset best`` recipes were chosen (digits: docs/results.md, "A recipe beyond the
original's"; faces: docs/faces.md, "How it was chosen"): each candidate is one of the
original's models in fixed fidelity with some recipe fields changed. Run candidates side by
side, each pinned to a core, so that they share the machine alike::

    taskset -c 0 python -m benchmarks.preset_screen --name hinge-r1 --loss hinge --r1-weight 1 \\
        --minutes 14 --json docs/quality/screen-hinge-r1.json &
    taskset -c 1 python -m benchmarks.preset_screen --program genface --name face-hinge \\
        --loss hinge --r1-weight 1 --discriminator-steps 1 --penalty-weight 0 --batch-size 16 \\
        --learning-rate 2e-4 --precision mixed_bfloat16 --every 100 --minutes 20 \\
        --json docs/faces/screen/face-hinge.json

Each evaluation scores 1,000 samples of z seed 0 with the program's ``evaluate`` scorer: the
raw generator (for the digits normalised by batch statistics, batches of the training batch
size) and the averaged generator as ``generate`` uses it. One row per evaluation is printed
and the results file is rewritten after each.
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
from common.recipes import PRECISIONS
from genface import cli as face_cli
from genface import models as face_models
from genmnist import cli as mnist_cli
from genmnist import models as mnist_models

SAMPLES = 1000
# program -> (the recipe the candidates change, its data reader, its scorer's name)
PROGRAMS = {"genmnist": (mnist_models.GAN, mnist_cli.read_mnist),
            "genface": (face_models.FACE, face_cli.read_faces)}


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.preset_screen", description=__doc__.split("\n")[0])
    parser.add_argument("--program", choices=sorted(PROGRAMS), default="genmnist",
                        help="whose recipe to change: the vanilla GAN (genmnist, default) or the faces WGAN-GP")
    parser.add_argument("--name", required=True, help="the candidate's name in the output")
    parser.add_argument("--minutes", type=float, default=14.0, help="wall-time budget (default 14)")
    parser.add_argument("--every", type=int, default=1000, help="evaluate every N iterations (default 1000)")
    parser.add_argument("--loss", default="hinge", choices=("minimax", "hinge", "wasserstein"))
    parser.add_argument("--r1-weight", type=float, default=0.0, help="gamma of the R1 penalty (default 0)")
    parser.add_argument("--penalty-weight", type=float, default=None,
                        help="weight of the WGAN-GP gradient penalty (default: the recipe's)")
    parser.add_argument("--discriminator-steps", type=int, default=None,
                        help="discriminator steps per generator step (default: the recipe's)")
    parser.add_argument("--share-z", action="store_true",
                        help="the generator step reuses the discriminator step's z and generator pass")
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--beta2", type=float, default=None, help="Adam beta2 (default: the recipe's)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--ema-decay", type=float, default=0.999)
    parser.add_argument("--warm-up", type=int, default=0, help="discriminator-only steps first (default 0)")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32")
    parser.add_argument("--fused-discriminator", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the rows, with provenance, to this file")
    return parser.parse_args(argv)


def candidate_recipe(args):
    """The program's recipe with the candidate's changes."""
    recipe, _ = PROGRAMS[args.program]
    changes = dict(loss=args.loss, r1_weight=args.r1_weight, pretrain_steps=args.warm_up, beta1=args.beta1)
    for field in ("penalty_weight", "discriminator_steps", "beta2"):
        if getattr(args, field) is not None:
            changes[field] = getattr(args, field)
    if args.share_z:
        changes["share_z"] = True
    return dataclasses.replace(recipe, **changes)


def make_scorer(program):
    if program == "genmnist":
        from genmnist.classifier import MnistScorer

        return MnistScorer(print_fn=lambda *_: None)
    from genface.scorer import FaceScorer

    return FaceScorer(print_fn=lambda *_: None)


def scores(scorer, images):
    result = scorer.score(images)
    row = {"frechet_distance": round(result["frechet_distance"], 2)}
    if "classifier_score" in result:
        row["classifier_score"] = round(result["classifier_score"], 3)
    if "coverage" in result:
        row["classes_missing"] = sum(c["classes"] - c["classes_shown"] for c in result["coverage"].values())
    return row


def main(argv=None):
    args = parse(argv)
    started = shared.moment()
    recipe = candidate_recipe(args)
    keras.utils.set_random_seed(args.seed)
    model = build_model(recipe, "fixed", seed=args.seed, learning_rate=args.learning_rate,
                        ema_decay=args.ema_decay, precision=args.precision,
                        fused_discriminator=args.fused_discriminator)
    images = PROGRAMS[args.program][1](None, recipe)
    scorer = make_scorer(args.program)
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
