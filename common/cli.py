"""The command line shared by ``genmnist`` and ``genface``.

A :class:`Family` says what differs between the two programs (their models, their data);
each subcommand is a :class:`Command` in :data:`COMMANDS`, written once for both. Bad
input is a :class:`~common.errors.UserError`, printed as one line with exit status 2
(``--debug`` adds the traceback).
"""

import argparse
import dataclasses
import os
import sys
import traceback
from typing import Callable, Optional

import numpy as np

from common.errors import UserError, require


@dataclasses.dataclass
class Family:
    """One program: ``genmnist`` (two models on 28x28 digits) or ``genface`` (96x96 faces)."""

    prog: str
    description: str
    recipes: dict
    default_model: str
    read_data: Callable  # (path or None, recipe, args) -> uint8 [N, H, W, C]
    data_help: str
    add_data_arguments: Optional[Callable] = None  # extra options for reading data
    generate_scale: bool = False  # offer --scale-factor (the original's imresize step)
    # (print_fn, data=None, images=None, options=None) -> a scorer (see common/evaluation.py);
    # data: the --data the generator learnt from, images: those images if already read,
    # options: the parsed command line.
    evaluator: Optional[Callable] = None
    add_evaluate_arguments: Optional[Callable] = None  # extra options for evaluate


@dataclasses.dataclass
class Command:
    name: str
    help: str
    add_arguments: Callable  # (parser, family)
    run: Callable  # (args, family) -> exit status


COMMANDS = {}


def register(command):
    COMMANDS[command.name] = command
    return command


# --- argument types that explain themselves -----------------------------------------------


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def non_negative_int(text):
    value = positive_int(text) if text.strip() != "0" else 0
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def seed_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2 ** 31:
        raise argparse.ArgumentTypeError(f"seed must be in 0..2147483647, got {value}")
    return value


# --- train -------------------------------------------------------------------------------


def _add_train_arguments(parser, family):
    parser.add_argument("--model", choices=sorted(family.recipes), default=family.default_model,
                        help=f"which of the original's models to train (default {family.default_model}): " +
                             "; ".join(f"{k}: {r.description}" for k, r in sorted(family.recipes.items())))
    parser.add_argument("--data", default=None, help=family.data_help)
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="training iterations in all, as the original's train_epochs counted them "
                             "(the vanilla GAN's 30 discriminator-only warm-up steps come on top); "
                             "default: the original's (gan 10000, wgan 500000, face 50000). With "
                             "--resume: the new total")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help="images per batch (default: the original's, 128 for gan, 64 for the WGANs)")
    parser.add_argument("--learning-rate", type=positive_float, default=None,
                        help="Adam learning rate (default: the original's, gan 0.0005, WGANs 0.0001)")
    parser.add_argument("--seed", type=seed_int, default=None,
                        help="seed of the weights, the data order and every random draw "
                             "(default: a random one, recorded in config.json)")
    parser.add_argument("--fidelity", choices=("legacy", "fixed"), default="legacy",
                        help="legacy (default): the original's math, quirks included; fixed: the "
                             "named quirks corrected (see the README)")
    parser.add_argument("--checkpoint-every", type=non_negative_int, default=1000,
                        help="write a checkpoint every N iterations (default 1000; 0: only at the "
                             "end); one is always written at the end and on Ctrl-C")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its newest checkpoint: same model, "
                             "data order, optimiser state and step counter")
    parser.add_argument("--out", required=True, help="the run folder to create (or to resume)")
    # Speed and scale (GitHub issue 8; the README, 'Speed, and many devices'). None: the run's recorded
    # setting on --resume, else the default; each is recorded in config.json.
    speed = parser.add_argument_group("speed and scale (see the README, 'Speed, and many devices')")
    speed.add_argument("--precision", choices=("float32", "mixed_bfloat16", "mixed_float16"), default=None,
                       help="float32 (default): the original's math; mixed_bfloat16 (fast on CPUs "
                            "with AVX-512 BF16 and on recent GPUs) or mixed_float16 (GPUs, with loss "
                            "scaling): layers compute in 16 bits, weights and losses stay float32")
    speed.add_argument("--jit-compile", action="store_const", const=True, default=None,
                       help="compile the training step with XLA (default: off)")
    speed.add_argument("--fused-discriminator", action="store_const", const=True, default=None,
                       help="one discriminator call on the real and generated batch together "
                            "(default: two calls, as the original; one call rounds differently)")
    speed.add_argument("--strategy", choices=("one", "mirrored", "multiworker"), default="one",
                       help="one (default): this device; mirrored: every GPU of this machine (or "
                            "every logical CPU device); multiworker: one process per machine, "
                            "cluster from TF_CONFIG, same --seed and --out on every worker")
    if family.evaluator is not None:
        parser.add_argument("--eval-every", type=non_negative_int, default=0,
                            help="every N iterations, score 1000 samples (the numbers evaluate "
                                 "gives) and log them to TensorBoard under eval/ (default 0: never)")
    if family.add_data_arguments:
        family.add_data_arguments(parser)


def _run_train(args, family):
    from common import distribute

    # First: a multi-worker strategy must exist before TensorFlow runs any operation.
    strategy = distribute.make_strategy(args.strategy)
    chief = distribute.is_chief(strategy)
    if args.strategy == "multiworker":
        require(args.seed is not None or args.resume,
                "--strategy multiworker needs --seed: every worker must draw the same numbers")
    out, scratch = args.out, None
    if not chief:  # only the chief writes the run folder; see common/distribute.py
        out, scratch = distribute.worker_folder(args.out, args.resume)
    try:
        return _train_in(out, args, family, strategy)
    finally:
        if scratch is not None:
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)


def _train_in(out, args, family, strategy):
    """``train`` into the run folder ``out`` (the chief's ``--out``, or a worker's scratch copy)."""
    from common import training
    from common.run import SPEED_OPTIONS as speed_options
    from common.run import RunFolder

    if args.resume:
        run = RunFolder.open(out, family.recipes)
        config = run.config
        for option in ("model", "batch_size", "learning_rate", "seed", *speed_options):
            given = getattr(args, option)
            recorded = config.get(option, speed_options.get(option))
            if given is not None and option != "model" and given != recorded:
                raise UserError(f"--{option.replace('_', '-')} {given} differs from the run's "
                                f"{recorded} ({run.path}/config.json); a resumed run keeps its settings")
        if args.data is not None:
            config["data"] = args.data
        steps = args.steps or config["steps"]
    else:
        recipe = family.recipes[args.model]
        seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little") % 2 ** 31
        config = {
            "model": args.model, "fidelity": args.fidelity, "z_dim": recipe.z_dim,
            "image_shape": list(recipe.image_shape), "seed": seed,
            "batch_size": args.batch_size or recipe.default_batch_size,
            "learning_rate": args.learning_rate or recipe.default_learning_rate,
            "data": args.data, "steps": args.steps or recipe.default_steps,
        }
        config.update({option: getattr(args, option) if getattr(args, option) is not None else default
                       for option, default in speed_options.items()})
        steps = config["steps"]
        # Read the data before creating the folder, so a bad path leaves nothing behind.
        images = family.read_data(args.data, recipe, args)
        require(config["batch_size"] <= len(images),
                f"--batch-size {config['batch_size']} is larger than the data set ({len(images)} images)")
        run = RunFolder.create(out, config)
    recipe = family.recipes[run.config["model"]]
    if args.resume:
        images = family.read_data(run.config["data"], recipe, args)
    print(f"{family.prog}: training {recipe.name} ({run.config['fidelity']} fidelity) on "
          f"{len(images)} images, {steps} iterations, batch {run.config['batch_size']}, "
          f"seed {run.config['seed']} -> {run.path}")
    callbacks = []
    if getattr(args, "eval_every", 0):
        from common.evaluation import EvaluationMonitor

        scorer = family.evaluator(print_fn=print, data=run.config["data"], images=images, options=args)
        callbacks.append(EvaluationMonitor(scorer, run.logs_dir, args.eval_every,
                                           seed=run.config["seed"], batch_size=run.config["batch_size"]))
    run.config["strategy"] = args.strategy  # the last one used; any gives the same numbers
    training.train(run, family.recipes, images, steps, resume=args.resume,
                   checkpoint_every=args.checkpoint_every, callbacks=callbacks, strategy=strategy)
    return 0


register(Command("train", "train a model (the original's train())", _add_train_arguments, _run_train))


# --- generate ----------------------------------------------------------------------------


def _add_generate_arguments(parser, family):
    parser.add_argument("--run", required=True, help="a run folder written by train")
    parser.add_argument("-n", type=positive_int, default=64, help="how many images (default 64)")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed of the latent vectors (default 0)")
    parser.add_argument("--z", default=None,
                        help="a .npy file of latent vectors [N, z_dim] to use instead of sampling")
    parser.add_argument("--batch-statistics", choices=("auto", "yes", "no"), default="auto",
                        help="normalise batch norm by the statistics of the whole z batch (yes), or "
                             "by the moving statistics (no); auto: yes in legacy fidelity, as the "
                             "original's prediction ran, no in fixed")
    if family.generate_scale:
        parser.add_argument("--scale-factor", type=positive_float, default=None,
                            help="upscale the generated images by this factor with bilinear "
                                 "interpolation (the original's imresize step)")
    parser.add_argument("--out", required=True,
                        help="a .png path writes a grid; a .npz path writes 'images' (uint8 "
                             "[N, H, W, C]) and 'raw' (float32 generator outputs)")


def load_latents(path, z_dim):
    require(os.path.exists(path), f"{path}: no such file; --z takes a .npy file of latent vectors")
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise UserError(f"{path}: not a readable .npy array ({exc})") from exc
    require(isinstance(z, np.ndarray) and np.issubdtype(z.dtype, np.number),
            f"{path}: expected a numeric array of latent vectors")
    z = z.reshape(1, -1) if z.ndim == 1 else z
    require(z.ndim == 2 and z.shape[1] == z_dim and len(z) > 0,
            f"{path}: latent vectors of shape {z.shape}, this model needs [N, {z_dim}]")
    require(np.all(np.isfinite(z)), f"{path}: NaN or infinite latent values")
    return z.astype(np.float32)


def _run_generate(args, family):
    from common import images as image_io
    from common.run import RunFolder
    from common.training import sample_latents

    run = RunFolder.open(args.run, family.recipes)
    suffix = os.path.splitext(args.out)[1].lower()
    require(suffix in (".png", ".npz", ".jpg", ".bmp"),
            f"--out {args.out}: expected a .png (grid) or .npz (arrays) path")
    model = run.load_model(family.recipes)
    z_dim = model.recipe.z_dim
    z = load_latents(args.z, z_dim) if args.z else sample_latents(args.n, z_dim, args.seed)
    batch_stats = {"auto": None, "yes": True, "no": False}[args.batch_statistics]
    raw = np.asarray(model.generator_outputs(z, batch_statistics=batch_stats))
    pictures = image_io.to_uint8(model.recipe.generator_images(raw, model.fidelity))
    if getattr(args, "scale_factor", None):
        pictures = image_io.resize(pictures, scale_factor=args.scale_factor)
    if suffix == ".npz":
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        np.savez_compressed(args.out, images=pictures, raw=raw.astype(np.float32), z=z)
    else:
        image_io.save_image(image_io.make_grid(pictures), args.out)
    print(f"{family.prog}: wrote {len(pictures)} images to {args.out}")
    return 0


register(Command("generate", "generate images from a trained run (the original's prediction())",
                 _add_generate_arguments, _run_generate))


# --- the program -------------------------------------------------------------------------

# Modules that register further commands (export, import-tf1, ...) when they are present.
COMMAND_MODULES = ("common.export", "common.legacy_tf1.commands", "common.evaluation")


def _load_command_modules():
    import importlib

    for name in COMMAND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line that says where to look, not a usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(family):
    _load_command_modules()
    parser = OneLineParser(prog=family.prog, description=family.description)
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    commands.required = True
    for command in COMMANDS.values():
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help="show tracebacks of errors")
        command.add_arguments(sub, family)
    return parser


def main(family, argv=None):
    args = build_parser(family).parse_args(argv)
    try:
        return COMMANDS[args.command].run(args, family)
    except Exception as exc:  # one line for the user, the traceback only on request
        from common.training import TrainingInterrupted

        if args.debug:
            traceback.print_exc()
        if isinstance(exc, TrainingInterrupted):
            print(f"{family.prog}: {exc}", file=sys.stderr)
            return 130
        if isinstance(exc, UserError):
            print(f"{family.prog}: error: {exc}", file=sys.stderr)
            return 2
        if not args.debug:
            print(f"{family.prog}: internal error: {exc.__class__.__name__}: {exc} "
                  f"(run with --debug for the traceback)", file=sys.stderr)
        return 1
