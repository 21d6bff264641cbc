"""``train`` and ``generate``: the commands both programs offer (:data:`TRAIN`,
:data:`GENERATE`), written once over the program's :class:`~common.cli.Family`."""

import argparse
import os
import sys

import numpy as np

from common import resources
from common.latents import MIN_TRUNCATION, load_latents, sample_latents, sample_truncated_latents, slerp
from common.arguments import (Command, add_checkpoint_argument, add_ema_argument, decay_float, models_with_batch_norm,
                              non_negative_float, non_negative_int, per_model, positive_float, positive_int, seed_int,
                              steps_int, warm_up_steps)
from common.errors import UserError, require


# --- train -------------------------------------------------------------------------------


def _add_train_arguments(parser, family):
    parser.add_argument("--model", choices=sorted(family.recipes), default=None,
                        help=f"which of the original's models to train (default {family.default_model}): " +
                             "; ".join(f"{k}: {r.description}" for k, r in sorted(family.recipes.items())))
    if family.presets:
        parser.add_argument("--preset", choices=sorted(family.presets), default=None,
                            help="a recipe beyond the original's, chosen by measurement (docs/results.md, 'A recipe "
                                 "beyond the original's'); options given beside it override its "
                                 "settings: " + "; ".join(f"{name}: {preset.description}"
                                                         for name, preset in sorted(family.presets.items())))
    parser.add_argument("--data", default=None, help=family.data_help)
    warm_up = warm_up_steps(family)
    parser.add_argument("--steps", type=steps_int, default=None,
                        help="training iterations in all, as the original's train_epochs counted them"
                             + (f" ({warm_up} discriminator-only warm-up steps come on top)" if warm_up else "")
                             + f"; default: the original's ({per_model(family, lambda r: r.default_steps)}). "
                               "With --resume: the new total")
    parser.add_argument("--batch-size", type=positive_int, default=None,
                        help="images per batch (default: the original's, "
                             f"{per_model(family, lambda r: r.default_batch_size)})")
    parser.add_argument("--learning-rate", type=positive_float, default=None,
                        help="Adam learning rate (default: the original's, "
                             f"{per_model(family, lambda r: r.default_learning_rate)})")
    parser.add_argument("--seed", type=seed_int, default=None,
                        help="seed of the weights, the data order and every random draw "
                             "(default: a random one, recorded in config.json)")
    parser.add_argument("--fidelity", choices=("legacy", "fixed"), default=None,
                        help="legacy (default): the original's math, quirks included; fixed: the "
                             "named quirks corrected (see docs/fidelity.md)")
    from common.losses import AS_WRITTEN

    if any(recipe.loss in AS_WRITTEN for recipe in family.recipes.values()):
        parser.add_argument("--stable-losses", action="store_const", const=True, default=None,
                            help="legacy fidelity: compute the vanilla GAN's losses from logits, finite "
                                 "where the original's log of a sigmoid is -inf and with other gradients "
                                 "where the sigmoid rounds to 0 or 1 (quirk Q8 corrected; always so in "
                                 "fixed fidelity). Default: as the original wrote them, divergences included")
    parser.add_argument("--reshuffle", action="store_const", const=True, default=None,
                        help="legacy fidelity: a fresh seeded order of the data every epoch (quirk Q6 "
                             "corrected; always so in fixed fidelity). Default: the original's order, "
                             "one shuffle replayed every epoch but for each epoch's first batch")
    parser.add_argument("--checkpoint-every", type=non_negative_int, default=1000,
                        help="write a checkpoint every N iterations (default 1000; 0: never by count); "
                             "one is always written at the end and on Ctrl-C or SIGTERM")
    parser.add_argument("--checkpoint-minutes", type=non_negative_float, default=10.0,
                        help="also write a checkpoint whenever M minutes have passed since the last "
                             "one (default 10; 0: never by time), so a kill loses at most M minutes")
    parser.add_argument("--max-minutes", type=positive_float, default=None,
                        help="stop cleanly, with a checkpoint, once M minutes of training have "
                             "passed (default: no limit); --resume goes on from there")
    parser.add_argument("--ema-decay", type=decay_float, default=None,
                        help="also keep an exponential moving average of the generator's weights "
                             "(batch-norm statistics included), ema = D * ema + (1 - D) * w after "
                             "every generator update, e.g. 0.999; checkpointed with the run, and used "
                             "by generate, export and evaluate (--no-ema there for the raw weights). "
                             "Default: none, the original's training exactly. In legacy fidelity "
                             "the averaged generator normalises by batch statistics as the raw one does")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its newest checkpoint (same model, data "
                             "order, optimiser state and step counter), or start it if it has none "
                             "yet: the same command line serves a first start and every restart. "
                             "--steps, --checkpoint-every, --checkpoint-minutes, --max-minutes, "
                             "--eval-every and --strategy may change on resume; other settings given "
                             "must match the run's")
    parser.add_argument("--out", required=True, help="the run folder to create (or to resume)")
    # Speed and scale (GitHub issue 8; docs/speed.md). None: the run's recorded
    # setting on --resume, else the default; each is recorded in config.json.
    speed = parser.add_argument_group("speed and scale (see docs/speed.md)")
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
        parser.add_argument("--eval-every", type=non_negative_int, default=None,
                            help="every N iterations, score 1000 samples (the numbers evaluate "
                                 "gives; of the averaged generator with --ema-decay) and log them "
                                 "to TensorBoard under eval/ (default 0: never; a preset's own "
                                 "otherwise); the checkpoint with "
                                 "the lowest Frechet distance so far is kept in RUN_DIR/best/, which "
                                 "generate, export and evaluate then use by default")
    if family.add_data_arguments:
        family.add_data_arguments(parser)


def _run_train(args, family):
    from common import distribute
    from common.run import worker_folder

    # First: a multi-worker strategy must exist before TensorFlow runs any operation.
    strategy = distribute.make_strategy(args.strategy)
    chief = distribute.is_chief(strategy)
    if args.strategy == "multiworker":
        require(args.seed is not None or args.resume,
                "--strategy multiworker needs --seed: every worker must draw the same numbers")
    out, scratch = args.out, None
    if not chief:  # only the chief writes the run folder; see common/distribute.py
        out, scratch = worker_folder(args.out, args.resume)
    try:
        return _train_in(out, args, family, strategy)
    finally:
        if scratch is not None:
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)


def _new_config(args, family):
    """The configuration of a run started by this command line."""
    from common.settings import RunConfig, absolute_data_path, random_seed

    preset = _preset(args, family)
    model = args.model or (preset.model if preset else family.default_model)
    recipe = family.recipes[model]
    if preset is None:
        defaults = dict(fidelity="legacy", batch_size=recipe.default_batch_size,
                        learning_rate=recipe.default_learning_rate, steps=recipe.default_steps, ema_decay=None)
    else:
        require(model == preset.model, f"--preset {preset.name} trains --model {preset.model}, not {model}; "
                                       f"drop --model or the preset")
        require(args.fidelity in (None, preset.fidelity),
                f"--preset {preset.name} builds on {preset.fidelity} fidelity, not {args.fidelity}; "
                f"drop --fidelity or the preset")
        defaults = dict(fidelity=preset.fidelity, batch_size=preset.batch_size,
                        learning_rate=preset.learning_rate, steps=preset.steps, ema_decay=preset.ema_decay)
    return RunConfig(
        model=model, fidelity=args.fidelity or defaults["fidelity"], z_dim=recipe.z_dim,
        image_shape=tuple(recipe.image_shape), seed=args.seed if args.seed is not None else random_seed(),
        batch_size=args.batch_size or defaults["batch_size"],
        learning_rate=args.learning_rate or defaults["learning_rate"],
        data=absolute_data_path(args.data), steps=args.steps or defaults["steps"],
        strategy=args.strategy, **{key: getattr(args, key) for key in RunConfig.SPEED_OPTIONS
                                   if getattr(args, key) is not None},  # else RunConfig's defaults
        ema_decay=args.ema_decay if args.ema_decay is not None else defaults["ema_decay"],
        preset=preset.name if preset else None, recipe_changes=preset.changes if preset else None,
        **_quirk_corrections(args, args.fidelity or defaults["fidelity"]))


def _quirk_corrections(args, fidelity):
    """Q8 and Q6 corrected or not: always in fixed fidelity, by option in legacy."""
    return {key: fidelity == "fixed" or bool(getattr(args, key, None)) for key in ("stable_losses", "reshuffle")}


def _preset(args, family):
    name = getattr(args, "preset", None)
    return family.presets[name] if name else None


def _eval_every(args, run, family):
    """--eval-every as given, else the run's preset's, else 0 (never)."""
    given = getattr(args, "eval_every", None)
    if given is not None:
        return given
    preset = family.presets.get(run.config.preset) if run.config.preset else None
    return preset.eval_every if preset else 0


def _check_resume_settings(run, args):
    """Refuse a setting on the command line that contradicts the run being resumed."""
    from common.settings import RunConfig, absolute_data_path

    config = run.config
    for key in RunConfig.FIXED_ON_RESUME:
        given = getattr(args, key, None)
        if given is None:
            continue
        recorded = getattr(config, key)
        if key == "data":
            given = absolute_data_path(given)
            if given != recorded and recorded is not None and not os.path.exists(recorded) \
                    and os.path.exists(given):
                print(f"note: the run's data {recorded} no longer exists; training on {given} from now on")
                config.data = given
                continue
        if given != recorded:
            raise UserError(f"--{key.replace('_', '-')} {given} contradicts the run's {key} {recorded} "
                            f"({run.config_path}); a resumed run keeps its settings: drop the option "
                            f"or start a new run with another --out")


def _note_changed_data(run, images, family):
    """Warn where the data differs from what the run started on: resumed on it, the run goes
    on, but it is no longer the run an unbroken one would have been."""
    from common import data

    recorded, now = run.config.data_fingerprint, data.fingerprint(images)
    if recorded is not None and recorded != now:
        print(f"{family.prog}: warning: the training data ({run.config.data or 'the default'}) has changed since "
              f"the run started ({recorded['images']} images then, {now['images']} now, other contents); "
              f"the resumed run trains on it as it is now", file=sys.stderr)
    run.config.data_fingerprint = now


def _train_in(out, args, family, strategy):
    """``train`` into the run folder ``out`` (the chief's ``--out``, or a worker's scratch copy)."""
    from common.run import CONFIG, LOCK, RunFolder, training_lock

    RunFolder.find(out, family.recipes)  # a folder that is no run of ours is refused before the lock touches it
    existed = os.path.exists(out)
    try:
        with training_lock(out):
            return _train_locked(out, existed, args, family, strategy)
    except BaseException:
        # Failed before it wrote a run: take back the folder (or the lock file) it made.
        lock = os.path.join(out, LOCK)
        if os.path.isdir(out) and not os.path.exists(os.path.join(out, CONFIG)):
            if os.path.exists(lock):
                os.remove(lock)
            if not existed and not os.listdir(out):
                os.rmdir(out)
        raise


def _train_locked(out, existed, args, family, strategy):
    from common import data, training
    from common.run import RunFolder

    found = RunFolder.find(out, family.recipes)
    trained = found is not None and RunFolder.holds_checkpoint(out)
    require(not trained or args.resume,
            f"{out}: already holds a trained run; pass --resume to continue it, or choose another --out")
    if found is not None and not trained and found.config.global_step > 0:
        raise UserError(f"{out}: its config.json records {found.config.steps_done} trained iterations, but no "
                        f"checkpoint is left in checkpoints/ or best/, so there is nothing to resume from; put "
                        f"the checkpoint files back, or start a new run with another --out")
    resuming, restarting = trained, found is not None and args.resume and not trained
    if resuming or restarting:
        run = found
        _check_resume_settings(run, args)
        steps = args.steps or run.config.steps
        recipe = family.recipes[run.config.model]
        images = family.read_data(run.config.data, recipe, args)
        _note_changed_data(run, images, family)
        if restarting:  # killed before its first checkpoint: start again as config.json records it
            print(f"{family.prog}: {out} has no checkpoint yet; starting the run again with the settings "
                  f"its config.json records")
            run = RunFolder.create(out, run.config.replace(steps=steps))
    else:
        if found is not None:
            print(f"{family.prog}: {out} holds a run that never reached its first checkpoint; starting "
                  f"it afresh with this command's settings")
        elif args.resume:
            print(f"{family.prog}: {out} holds no run yet; starting the run")
        config = _new_config(args, family)
        recipe = family.recipes[config.model]
        steps = config.steps
        # Read the data before creating the folder, so a bad path leaves nothing behind.
        images = family.read_data(args.data, recipe, args)
        require(config.batch_size <= len(images),
                f"--batch-size {config.batch_size} is larger than the data set ({len(images)} images)")
        run = RunFolder.create(out, config.replace(data_fingerprint=data.fingerprint(images)))
    print(f"{family.prog}: {'resuming' if resuming else 'training'} {recipe.name} ({run.config.fidelity} "
          f"fidelity) on {len(images)} images, {steps} iterations, batch {run.config.batch_size}, "
          f"seed {run.config.seed} -> {run.path}")
    run.config.strategy = args.strategy  # the last one used; any gives the same numbers
    try:
        callbacks = []
        eval_every = _eval_every(args, run, family) if family.evaluator is not None else 0
        if eval_every:
            from common.evaluation import EvaluationMonitor

            scorer = family.evaluator(print_fn=print, data=run.config.data, images=images, options=args)
            callbacks.append(EvaluationMonitor(scorer, run.logs_dir, eval_every, seed=run.config.seed,
                                               batch_size=run.config.batch_size, run=run))
        training.train(run, family.recipes, images, steps, resume=resuming,
                       checkpoint_every=args.checkpoint_every, checkpoint_minutes=args.checkpoint_minutes,
                       max_minutes=args.max_minutes, callbacks=callbacks, strategy=strategy)
    except BaseException:
        # Stopped before its first checkpoint: leave nothing behind (a later train or
        # train --resume would start it afresh anyway).
        if not resuming and not restarting and not RunFolder.holds_checkpoint(out) and not _has_samples(run):
            RunFolder.remove_untrained(out, existed)
        raise
    return 0


def _has_samples(run):
    return os.path.isdir(run.samples_dir) and bool(os.listdir(run.samples_dir))


TRAIN = Command("train", "train a model (the original's train())", _add_train_arguments, _run_train)


# --- generate ----------------------------------------------------------------------------


def interpolation_count(text):
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected at least 2 images per row (the two ends), got {value}")
    return value


def truncation_float(text):
    value = positive_float(text)
    if value < MIN_TRUNCATION:
        raise argparse.ArgumentTypeError(f"expected a number of standard deviations of at least "
                                         f"{MIN_TRUNCATION}, got {text}")
    return value


def _add_generate_arguments(parser, family):
    batch_norm = models_with_batch_norm(family)
    together = (f". With batch statistics (legacy {batch_norm}) every image of the grid is normalised with "
                f"all the others, so an end image differs from generate --z of its vector alone: pass "
                f"--batch-statistics no to compare them") if batch_norm else ""
    parser.add_argument("--run", required=True, help="a run folder written by train")
    add_checkpoint_argument(parser, family, default="auto")
    add_ema_argument(parser)
    parser.add_argument("-n", type=positive_int, default=None,
                        help="how many images (default 64, or as many as --z holds); with "
                             "--interpolate: how many rows (default 8, or half as many as --z holds)")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed of the latent vectors (default 0)")
    parser.add_argument("--z", default=None,
                        help="a .npy file of latent vectors [N, z_dim] to use instead of sampling; "
                             "with --interpolate, the ends of each row in pairs: rows 0-1, 2-3, ...")
    parser.add_argument("--interpolate", type=interpolation_count, default=None, metavar="K",
                        help="rows of K images each along a spherical interpolation (slerp) between "
                             "two latent vectors, the first and last images being those of the two "
                             "vectors themselves; a .gif --out shows the rows moving along it" + together)
    parser.add_argument("--truncation", type=truncation_float, default=None, metavar="PSI",
                        help="the truncation trick: every component of z beyond PSI standard "
                             f"deviations is redrawn (from the same seeded stream) until it lies "
                             f"within; smaller PSI: less variety, more typical images. At least "
                             f"{MIN_TRUNCATION}; default: none. Not with --z")
    parser.add_argument("--batch-statistics", choices=("auto", "yes", "no"), default="auto",
                        help="normalise batch norm by the statistics of the whole z batch (yes), or "
                             "by the moving statistics (no); auto: yes in legacy fidelity, as the "
                             "original's prediction ran, no in fixed. With yes, all N vectors form "
                             "one batch: fewer than 16 give poor statistics, and one gives the same "
                             "image for every seed")
    if family.generate_scale:
        parser.add_argument("--scale-factor", type=positive_float, default=None,
                            help="upscale the generated images by this factor with bilinear "
                                 "interpolation (the original's imresize step)")
    parser.add_argument("--out", required=True,
                        help="a .png path writes a grid; a .npz path writes 'images' (uint8 "
                             "[N, H, W, C]), 'raw' (float32 generator outputs) and 'z'; with "
                             "--interpolate a .gif path writes an animation along the rows")


# A .gif --out: frames per row, forward and back, 120 ms each (4 minutes at this bound).
# PIL merges identical frames and adds their times, which must fit the GIF's 16-bit field.
MAX_ANIMATION_STEPS = 1000
# A batch too small for its own statistics: below this, generate with batch statistics warns.
MIN_STATISTICS_BATCH = 16
GENERATE_CHUNK = 500


def generation_bytes(model, count):
    """A generous estimate of the memory one generator pass over ``count`` vectors takes."""
    per_sample = sum(int(np.prod(layer.output.shape[1:])) for layer in model.generator.layers)
    return 4 * per_sample * count * 2  # float32 activations, plus what TensorFlow keeps beside them


def generate_outputs(model, z, batch_statistics, prog):
    """The generator's raw outputs for ``z``, in bounded memory wherever the batch allows."""
    uses_batch_statistics = model.recipe.batch_norm and (
        model.fidelity == "legacy" if batch_statistics is None else batch_statistics)
    if not uses_batch_statistics:
        return np.concatenate([np.asarray(model.generator_outputs(z[k:k + GENERATE_CHUNK], batch_statistics))
                               for k in range(0, len(z), GENERATE_CHUNK)])
    if len(z) < MIN_STATISTICS_BATCH:
        print(f"{prog}: warning: batch norm normalises these {len(z)} vector(s) by their own statistics "
              f"(as the original's prediction did); fewer than {MIN_STATISTICS_BATCH} give poor "
              f"statistics, and 1 gives the same image for every seed. Generate {MIN_STATISTICS_BATCH} "
              f"or more at once (-n 64) and keep the ones you need, or export the generator "
              f"(population statistics)", file=sys.stderr)
    resources.require_memory(
        generation_bytes(model, len(z)),
        f"-n {len(z)} with batch statistics normalises all {len(z)} vectors as one batch, which",
        "generate fewer per call (different --seed values), or pass --batch-statistics no")
    return np.asarray(model.generator_outputs(z, batch_statistics))


def _generation_latents(args, z_dim):
    """``(z, rows, cols)``: the vectors to generate, and the grid they form (None: square-ish)."""
    if args.interpolate is None:
        if args.z:
            z = load_latents(args.z, z_dim)
            require(args.n is None or args.n == len(z),
                    f"-n {args.n} contradicts --z {args.z}, which holds {len(z)} vectors; drop -n")
        elif args.truncation:
            z = sample_truncated_latents(args.n or 64, z_dim, args.seed, args.truncation)
        else:
            z = sample_latents(args.n or 64, z_dim, args.seed)
        return z, None, None
    if args.z:
        ends = load_latents(args.z, z_dim)
        require(len(ends) % 2 == 0, f"--z {args.z} holds {len(ends)} vectors; --interpolate takes them "
                                    f"in pairs (the two ends of each row), so give an even number")
        require(args.n is None or 2 * args.n == len(ends),
                f"-n {args.n} rows contradicts --z {args.z}, which holds {len(ends)} vectors "
                f"({len(ends) // 2} pairs); drop -n")
    else:
        count = 2 * (args.n or 8)
        ends = (sample_truncated_latents(count, z_dim, args.seed, args.truncation) if args.truncation
                else sample_latents(count, z_dim, args.seed))
    path = slerp(ends[0::2], ends[1::2], args.interpolate)
    return path.reshape(-1, z_dim), len(path), args.interpolate


def _run_generate(args, family):
    from common import images as image_io
    from common.run import load_run_model

    suffix = os.path.splitext(args.out)[1].lower()
    pictures_suffixes = (".png", ".jpg", ".bmp") + ((".gif",) if args.interpolate else ())
    require(suffix in pictures_suffixes + (".npz",),
            f"--out {args.out}: expected a .png (grid) or .npz (arrays) path"
            + ("; a .gif animates an interpolation (--interpolate K)" if suffix == ".gif" else ""))
    require(not (args.z and args.truncation),
            "--truncation redraws the sampled vectors; the vectors of --z are used as given: drop one")
    _, model = load_run_model(args.run, family, args.checkpoint, averaged=not args.no_ema)
    z_dim = model.recipe.z_dim
    if not args.z:  # the vectors to draw, before drawing them
        count = 2 * (args.n or 8) + (args.n or 8) * args.interpolate if args.interpolate else args.n or 64
        resources.require_memory(count * (12 * z_dim + 5 * int(np.prod(model.recipe.image_shape))),
                                 f"generating {count} images", "generate fewer per call (a smaller -n"
                                 + (" or --interpolate K" if args.interpolate else "") + ")")
    z, rows, cols = _generation_latents(args, z_dim)
    # Every check on the output before the generator runs.
    shape = model.recipe.image_shape
    if getattr(args, "scale_factor", None):
        shape = image_io.check_scale_factor(shape, args.scale_factor)
    if suffix == ".npz":
        require(not os.path.isdir(args.out), f"{args.out}: is an existing folder; give a file path such as "
                                             f"{os.path.join(args.out, 'images.npz')}")
    elif suffix == ".gif":
        image_io.check_image_path(args.out)
        image_io.check_grid_size(rows, shape)
        require(cols <= MAX_ANIMATION_STEPS,
                f"--interpolate {cols} with a .gif: an animation of at most {MAX_ANIMATION_STEPS} images per row "
                f"(its frames would last hours, and a GIF's frame timing overflows); give a smaller K, or "
                f"write all {cols} to a .npz --out")
    else:
        image_io.check_image_path(args.out)
        image_io.check_grid_size(len(z), shape, rows, cols)
    resources.require_memory(len(z) * (5 * int(np.prod(model.recipe.image_shape)) + int(np.prod(shape))),
                             f"-n {len(z)}: the images alone", "generate fewer per call")
    batch_stats = {"auto": None, "yes": True, "no": False}[args.batch_statistics]
    raw = generate_outputs(model, z, batch_stats, family.prog)
    pictures = image_io.to_uint8(model.recipe.generator_images(raw, model.fidelity))
    if getattr(args, "scale_factor", None):
        pictures = image_io.resize(pictures, scale_factor=args.scale_factor)
    if suffix == ".npz":
        from common.files import write_atomically

        try:
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            write_atomically(args.out, lambda handle: np.savez_compressed(
                handle, images=pictures, raw=raw.astype(np.float32), z=z), mode="wb")
        except OSError as exc:
            raise UserError(f"--out {args.out}: cannot write ({exc.strerror or exc}); choose another path") from None
    elif suffix == ".gif":
        # Frame k: the k-th image of every row; forward along the rows, then back.
        frames = [image_io.make_grid(pictures[k::cols]) for k in range(cols)]
        image_io.save_animation(frames + frames[-2:0:-1], args.out)
    else:
        image_io.save_image(image_io.make_grid(pictures, rows, cols), args.out)
    what = f"{rows} rows of {cols} interpolated images" if rows else f"{len(pictures)} images"
    print(f"{family.prog}: wrote {what} to {args.out}")
    return 0


GENERATE = Command("generate", "generate images from a trained run (the original's prediction())",
                   _add_generate_arguments, _run_generate)
