"""The TF1 bridge on the command line: ``import-tf1``, ``export-tf1`` and ``compare``.

:data:`COMMANDS`, which both programs list, each for its own models::

    python -m genmnist import-tf1 model/gan --out runs/gan-tf1     # an original checkpoint -> a run
    python -m genmnist train --resume --out runs/gan-tf1 --steps 20000
    python -m genmnist export-tf1 --run runs/gan-tf1 --out model/gan-continued
    python -m genmnist compare model/gan                            # original vs port, number by number
    python -m genface compare --iterations 1                        # from a fresh random initialisation

The work is done in :mod:`.checkpoints` and :mod:`.compare`; this module only reads the
options and prints.
"""

import os

import numpy as np

from common import resources
from common.arguments import (Command, add_checkpoint_argument, non_negative_int, per_model, positive_float,
                              positive_int, seed_int)
from common.errors import require


def _model_option(parser, family, what, fallback=False):
    default = "recognised from the checkpoint's variable names"
    if fallback:
        default += f"; {family.default_model} without a checkpoint"
    parser.add_argument("--model", choices=sorted(family.recipes), default=None,
                        help=f"which of the original's models {what} (default: {default})")


def _optimiser_options(parser, family):
    parser.add_argument("--learning-rate", type=positive_float, default=None,
                        help="the learning rate the original run used (a checkpoint does not record it; "
                             f"default: the original script's, {per_model(family, lambda r: r.default_learning_rate)})")
    parser.add_argument("--beta1", type=positive_float, default=None,
                        help=f"Adam's beta1 of the original run (default: the original's, "
                             f"{per_model(family, lambda r: r.beta1)}); needed only where that run changed it")


def _guess(path, family):
    from . import checkpoints

    if path is None:
        return family.default_model
    reader = checkpoints.open_checkpoint(path)
    guessed = checkpoints.guess_original_model(reader.get_variable_to_shape_map())
    return guessed if guessed in family.recipes else None


# --- import-tf1 ------------------------------------------------------------------------------


def _add_import_arguments(parser, family):
    parser.add_argument("checkpoint", metavar="CHECKPOINT_PREFIX",
                        help="an original checkpoint: the path the original's saver.save() was given "
                             f"(model/{family.default_model} for model/{family.default_model}.index + "
                             f"model/{family.default_model}.data-00000-of-00001), one of its files, or its folder")
    _model_option(parser, family, "wrote the checkpoint")
    parser.add_argument("--out", required=True, help="the run folder to create")
    parser.add_argument("--iterations", type=non_negative_int, default=None,
                        help="how many iterations the original run trained (its train_epochs). Read "
                             "from the checkpoint's Adam beta powers while they tell it; needed once "
                             "they have underflowed to 0 (a WGAN after ~830 iterations)")
    parser.add_argument("--seed", type=seed_int, default=None,
                        help="seed of the imported run's future random draws and data order "
                             "(default: a random one, recorded in config.json)")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help="batch size for continued training (default: the original's, "
                             f"{per_model(family, lambda r: r.default_batch_size)})")
    parser.add_argument("--data", default=None,
                        help="training data for train --resume (default: the program's default data)")
    _optimiser_options(parser, family)


def _run_import(args, family):
    from . import checkpoints

    require(args.data is None or family.names_data(args.data) or os.path.exists(args.data),
            f"--data {args.data}: no such file or folder")
    run, position = checkpoints.import_tf1_checkpoint(
        args.checkpoint, family.recipes, args.out, model_name=args.model, iterations=args.iterations,
        seed=args.seed, batch_size=args.batch_size, learning_rate=args.learning_rate, beta1=args.beta1,
        data=args.data, print_fn=lambda message: print(f"{family.prog}: {message}"))
    config = run.config
    print(f"{family.prog}: imported {config.imported_from} ({config.model}, "
          f"{position.iterations} iterations; Adam updates: discriminator "
          f"{position.discriminator_steps}, generator {position.generator_steps}) -> {run.path}")
    print(f"{family.prog}: continue training with: {family.prog} train --resume --out {run.path} "
          f"--steps {position.iterations + 1000}")
    return 0


IMPORT_TF1 = Command("import-tf1", "import a checkpoint of the original TF1 code into a run folder",
                     _add_import_arguments, _run_import)


# --- export-tf1 ------------------------------------------------------------------------------


def _add_export_arguments(parser, family):
    parser.add_argument("--run", required=True, help="a run folder (written by train or import-tf1)")
    parser.add_argument("--out", required=True, metavar="CHECKPOINT_PREFIX",
                        help="where to write the checkpoint: PREFIX.index and "
                             "PREFIX.data-00000-of-00001, plus the folder's 'checkpoint' file")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint at --out")
    add_checkpoint_argument(parser, family)


def _run_export(args, family):
    from . import checkpoints

    prefix, model = checkpoints.export_tf1_checkpoint(args.run, family.recipes, args.out, args.overwrite,
                                                      which=args.checkpoint)
    count = len(checkpoints.tf1_shapes(model))
    steps = checkpoints.adam_steps(model)
    print(f"{family.prog}: wrote {prefix}.index and {prefix}.data-00000-of-00001: {count} variables "
          f"(weights, batch-norm statistics, Adam slots and beta powers after {steps['discriminator']} "
          f"discriminator and {steps['generator']} generator updates)")
    print(f"{family.prog}: the original code restores it with tf.train.Saver().restore(sess, {prefix!r})")
    return 0


EXPORT_TF1 = Command("export-tf1", "write a run's weights as a checkpoint the original TF1 code restores",
                     _add_export_arguments, _run_export)


# --- compare ---------------------------------------------------------------------------------


def _tolerance(text):
    import argparse

    from .compare import ADJUSTABLE

    kind, _, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected KIND=NUMBER (kinds {', '.join(ADJUSTABLE)}), got {text!r}") from None
    if kind not in ADJUSTABLE or not number >= 0:
        raise argparse.ArgumentTypeError(f"expected KIND=NUMBER >= 0 with KIND one of {', '.join(ADJUSTABLE)}, "
                                         f"got {text!r}")
    return kind, number


def _iteration_steps(recipe):
    """What one iteration of ``recipe`` trains: "5 critic steps and one generator step"."""
    count = recipe.discriminator_steps
    network = "critic" if recipe.loss == "wasserstein" else "discriminator"
    return f"{count} {network} steps and one generator step" if count > 1 else f"one {network} and one generator step"


def _add_compare_arguments(parser, family):
    parser.add_argument("checkpoint", metavar="CHECKPOINT_PREFIX", nargs="?", default=None,
                        help="an original checkpoint both sides start from (default: a fresh random "
                             "initialisation of the original graph, written into both)")
    _model_option(parser, family, "to compare", fallback=True)
    parser.add_argument("--seed", type=seed_int, default=0,
                        help="seed of the random initialisation, z, alphas and real batches (default 0)")
    parser.add_argument("--batch-size", type=positive_int, default=8, help="images per batch (default 8)")
    parser.add_argument("--iterations", type=non_negative_int, default=5,
                        help="training iterations to compare (default 5); one iteration: "
                             + per_model(family, _iteration_steps))
    parser.add_argument("--warm-up-steps", type=non_negative_int, default=None,
                        help="discriminator-only steps before the iterations (default: the "
                             f"original's, {per_model(family, lambda r: r.pretrain_steps)})")
    parser.add_argument("--free-running", action="store_true",
                        help="let both sides train freely instead of in lockstep, and judge the drift "
                             "against the original's own drift from a one-ulp nudge (see the docs)")
    parser.add_argument("--no-drift-reference", dest="drift_reference", action="store_false",
                        help="skip the nudged copy of the original that training rows are also judged "
                             "against (quicker; plain tolerances only)")
    parser.add_argument("--tolerance", type=_tolerance, action="append", default=[], metavar="KIND=VALUE",
                        help="override a tolerance: forward (abs, default 1e-5), loss (rel, 1e-5), "
                             "gradient (rel, 1e-4), variable (rel, 1e-4); repeatable")
    parser.add_argument("--failures-only", action="store_true", help="print only the rows above tolerance")
    parser.add_argument("--data", default=None,
                        help=f"real images to feed both sides (default: {family.default_data})")
    _optimiser_options(parser, family)
    if family.add_data_arguments:
        family.add_data_arguments(parser)


# compare is a step-by-step check; its free-running mode judges drift over hundreds of steps.
MAX_COMPARE_STEPS = 100_000


def _real_images(family, recipe, args, count):
    if args.data is None:
        return None
    images = family.read_data(args.data, recipe, args)
    if not isinstance(images, np.ndarray):  # a data set left on disk: decode what is needed
        images = np.stack([images.decode(path) for path in images.paths[:count]])
    return images[:count]


def _run_compare(args, family):
    from .compare import compare

    model = args.model or _guess(args.checkpoint, family)
    require(model is not None, f"{args.checkpoint}: cannot tell which model wrote this checkpoint; pass "
                               f"--model ({', '.join(sorted(family.recipes))})")
    recipe = family.recipes[model]
    warm_up = recipe.pretrain_steps if args.warm_up_steps is None else args.warm_up_steps
    steps = warm_up + args.iterations + 1
    require(steps <= MAX_COMPARE_STEPS,
            f"--warm-up-steps {warm_up} and --iterations {args.iterations}: compare runs both sides step by "
            f"step, at most {MAX_COMPARE_STEPS} steps in all; give fewer")
    resources.require_memory(args.batch_size * steps * int(np.prod(recipe.image_shape)) * 5,
                             f"--batch-size {args.batch_size} for {steps} steps (their real images)",
                             "give a smaller --batch-size or fewer --iterations")
    images = _real_images(family, recipe, args, args.batch_size * (warm_up + args.iterations + 1))
    print(f"{family.prog}: comparing the original's {model} with the port "
          f"({args.checkpoint or f'fresh random initialisation, seed {args.seed}'})")
    report = compare(recipe, checkpoint=args.checkpoint, seed=args.seed, batch_size=args.batch_size,
                     iterations=args.iterations, warm_up_steps=args.warm_up_steps, images=images,
                     learning_rate=args.learning_rate, beta1=args.beta1,
                     tolerances=dict(args.tolerance), free_running=args.free_running,
                     drift_reference=args.drift_reference, handled=family.recipes,
                     default_images=family.default_images,
                     progress=lambda message: print(f"{family.prog}: {message}", flush=True))
    if not (args.failures_only and report.ok):
        print(report.format(only_failures=args.failures_only))
    print(f"{family.prog}: {report.summary()} ({report.seconds:.0f} s)")
    return 0 if report.ok else 1


COMPARE = Command("compare", "run the original TF1 graph and the port on the same inputs and print "
                             "their differences", _add_compare_arguments, _run_compare)

COMMANDS = (IMPORT_TF1, EXPORT_TF1, COMPARE)
