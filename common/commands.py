"""``train``: the training command both programs offer (:data:`TRAIN`), written once over
the program's :class:`~common.cli.Family`: a new run, a resumed one, or one started again as
its ``config.json`` records it."""

import argparse
import os
import sys

from common.arguments import Command
from common.errors import UserError, require


# --- train -------------------------------------------------------------------------------


def _add_train_arguments(parser, family):
    """The options of :data:`common.settings.TRAIN_SETTINGS` the program offers, then --resume
    and --out. Every option's default is None: a new run takes the preset's value or the
    table's default, a resumed run its recorded one (see :func:`_chosen`)."""
    from common.settings import TRAIN_SETTINGS

    groups = {}
    for setting in TRAIN_SETTINGS:
        if not setting.offered(family):
            continue
        if setting.group is not None and setting.group not in groups:
            groups[setting.group] = parser.add_argument_group(setting.group)
        where = groups.get(setting.group, parser)
        help_text = setting.help(family) if callable(setting.help) else setting.help
        choices = setting.choices(family) if callable(setting.choices) else setting.choices
        if setting.kind is bool and callable(setting.default):  # a quirk corrected: always in fixed fidelity
            where.add_argument(setting.option, action="store_const", const=True, default=None, help=help_text)
        elif setting.kind is bool:  # --no-NAME too, against a preset that sets it
            where.add_argument(setting.option, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            where.add_argument(setting.option, type=setting.parse, choices=choices, default=None, help=help_text)
    changeable = [s.option for s in TRAIN_SETTINGS if s.on_resume and s.offered(family)]
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its newest checkpoint (same model, data "
                             "order, optimiser state and step counter), or start it if it has none "
                             "yet: the same command line serves a first start and every restart. "
                             f"{', '.join(changeable[:-1])} and {changeable[-1]} may change on resume; other "
                             "settings given must match the run's")
    parser.add_argument("--out", required=True, help="the run folder to create (or to resume)")
    if family.add_data_arguments:
        family.add_data_arguments(parser)


def _chosen(args, name, preset=None):
    """A setting that config.json does not record: as given, else the preset's, else the table's default."""
    from common.settings import SETTINGS

    for value in (getattr(args, name, None), preset.default(name) if preset else None):
        if value is not None:
            return value
    return SETTINGS[name].new_run_value(None, {})


def _run_train(args, family):
    from common import distribute
    from common.run import worker_folder

    # First: a multi-worker strategy must exist before TensorFlow runs any operation.
    args.strategy = _chosen(args, "strategy")
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
    """The configuration of a run started by this command line: each recorded setting as
    given, else the preset's, else the table's default for the model's recipe."""
    from common.settings import TRAIN_SETTINGS, RunConfig, absolute_data_path

    preset = _preset(args, family)
    model = args.model or (preset.model if preset else family.default_model)
    recipe = family.recipes[model]
    if preset is not None:
        require(model == preset.model, f"--preset {preset.name} trains --model {preset.model}, not {model}; "
                                       f"drop --model or the preset")
        require(args.fidelity in (None, preset.default("fidelity")),
                f"--preset {preset.name} builds on {preset.default('fidelity')} fidelity, not {args.fidelity}; "
                f"drop --fidelity or the preset")
    chosen = {"model": model}
    for setting in TRAIN_SETTINGS:
        if not setting.recorded or setting.name in chosen:
            continue
        value = getattr(args, setting.name, None)
        if value is None and preset is not None:
            value = preset.default(setting.name)
        if value is None:
            value = setting.new_run_value(recipe, chosen)
        chosen[setting.name] = value
    chosen["data"] = absolute_data_path(chosen["data"])
    return RunConfig(z_dim=recipe.z_dim, image_shape=tuple(recipe.image_shape),
                     recipe_changes=preset.changes if preset else None, **chosen)


def _preset(args, family):
    name = getattr(args, "preset", None)
    return family.presets[name] if name else None


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
        images = family.read_data(run.config.data, recipe, run.config.reading_data(args))
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
        options = {name: True for name in family.data_options if getattr(args, name, False)} or None
        run = RunFolder.create(out, config.replace(data_fingerprint=data.fingerprint(images), data_options=options))
    print(f"{family.prog}: {'resuming' if resuming else 'training'} {recipe.name} ({run.config.fidelity} "
          f"fidelity) on {len(images)} images, {steps} iterations, batch {run.config.batch_size}, "
          f"seed {run.config.seed} -> {run.path}")
    run.config.strategy = args.strategy  # the last one used; any gives the same numbers
    try:
        callbacks = []
        preset = family.presets.get(run.config.preset) if run.config.preset else None
        eval_every = _chosen(args, "eval_every", preset) if family.evaluator is not None else 0
        if eval_every:
            from common.evaluation import EvaluationMonitor

            scorer = family.evaluator(print_fn=print, data=run.config.data, images=images, options=args)
            callbacks.append(EvaluationMonitor(scorer, run.logs_dir, eval_every, seed=run.config.seed,
                                               batch_size=run.config.batch_size, run=run))
        training.train(run, family.recipes, images, steps, resume=resuming,
                       checkpoint_every=_chosen(args, "checkpoint_every", preset),
                       checkpoint_minutes=_chosen(args, "checkpoint_minutes", preset),
                       max_minutes=_chosen(args, "max_minutes", preset), callbacks=callbacks, strategy=strategy)
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
