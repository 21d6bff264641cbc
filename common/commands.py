"""``train``: the training command both programs offer (:data:`TRAIN`), written once over
the program's :class:`~common.cli.Family`: a new run, a resumed one, or one started again as
its ``config.json`` records it."""

import os
import sys

from common.arguments import (Command, decay_float, non_negative_float, non_negative_int, per_model, positive_float,
                              positive_int, seed_int, steps_int, warm_up_steps)
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
