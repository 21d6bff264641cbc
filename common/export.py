"""Trained generators for people without this project: SavedModel export, and the ``.keras`` format.

``export`` writes a SavedModel of the generator alone (``keras.export.ExportArchive``) to
the numbered version folder TensorFlow Serving expects, appearing in one rename. Its
``serving_default`` takes ``z`` (float32 ``[None, z_dim]``) and returns ``images`` in [0, 1]
and ``images_uint8``. It checks ``z`` in the graph (rank, width, NaN), because neither
``tf.saved_model.load`` nor TensorFlow Serving enforces the declared shape, with asserts
alone, so that the SavedModel converts with LiteRT's builtin operators.

A served model must not depend on which requests share its batch, so batch norm runs in
inference mode; where a run's moving statistics mean nothing (legacy fidelity, quirk Q2)
they are re-estimated from many seeded z in a copy of the generator
(:mod:`common.batch_norm`); ``--legacy-batch-stats`` keeps the original's per-request
statistics instead.

``export --format tflite`` and ``--format onnx`` write the same generator as a LiteRT or
ONNX file, converted from a scratch SavedModel and checked in its own runtime against the
generator's images before it is kept (:mod:`common.export_formats`).

``export --format keras`` / ``import-keras`` move a whole run (both networks, both
optimisers' state, the step counter, the settings) as a ``.keras`` file, loaded with safe
mode on, so it resumes exactly on another machine. The full account: docs/export.md.
"""

import json
import os
import sys
import tempfile
import warnings

import keras
import numpy as np
import tensorflow as tf

from common import resources
from common.arguments import (Command, add_checkpoint_argument, add_ema_argument, models_with_batch_norm,
                              positive_int, seed_int)
from common.batch_norm import batch_norm_layers, reestimate_batch_norm
from common.errors import UserError, require
from common.export_formats import FILE_FORMATS, QUANTIZATIONS, SIGNATURE, check_target
from common.files import replace_atomically
from common.latents import sample_latents

BATCH_STATS_MODES = ("population", "batch")
# 20,000 z vectors put each re-estimated mean within about 0.7% of a standard deviation of
# the population's (the original's training batches of 128 were 9% off, batch to batch),
# at about 10 s of CPU time for the vanilla GAN.
DEFAULT_REESTIMATE_SAMPLES = 20_000
CHECK_SEED = 0  # a LiteRT or ONNX file is checked on generate --seed 0 -n 64's z


# --- batch-norm statistics --------------------------------------------------------------


def moving_statistics_problem(model):
    """Why the model's batch-norm moving statistics cannot be used, or None if they can."""
    layers = batch_norm_layers(model.generator)
    if not layers:
        return None
    if model.fidelity == "legacy":
        return ("legacy fidelity never updates them, as the original never did (quirk Q2), "
                "so they are still at their initial 0 and 1")
    untouched = all(np.all(np.asarray(layer.moving_mean) == 0.0)
                    and np.all(np.asarray(layer.moving_variance) == 1.0) for layer in layers)
    if untouched:
        return ("they are still at their initial 0 and 1 (never updated, as in a checkpoint "
                "of the original)")
    return None


def copy_generator(model):
    """A new generator of the model's recipe holding the model's generator weights."""
    recipe = model.recipe
    generator = recipe.build_generator(model.fidelity, recipe.z_dim)
    generator.set_weights(model.generator.get_weights())
    return generator


def inference_generator(model, batch_stats="population", reestimate=None,
                        samples=DEFAULT_REESTIMATE_SAMPLES, seed=0):
    """The generator an export serves, and a sentence on what it computes (None: nothing to say).

    An export computes in float32 whatever precision the run trained with: its signature
    promises float32 images, and LiteRT has no bfloat16 kernels. The weights are float32
    in every precision, so a float32 copy holds them exactly. The model is never changed.
    """
    precision = getattr(model, "precision", "float32")
    served = model.generator if precision == "float32" else copy_generator(model)
    generator, note = batch_norm_generator(model, served, batch_stats, reestimate, samples, seed)
    if served is not model.generator:
        computes = (f"the export computes in float32 (the run trained with {precision}), so its images "
                    f"differ a little from generate's, which computes in {precision}")
        note = f"{note}; {computes}" if note else computes
    return generator, note


def batch_norm_generator(model, served, batch_stats="population", reestimate=None,
                         samples=DEFAULT_REESTIMATE_SAMPLES, seed=0):
    """``served`` (the model's generator or a float32 copy) with the batch-norm statistics an
    export uses, and a sentence on them (None if it has no batch norm).

    ``reestimate``: None re-estimates the statistics only where they are not valid (see
    :func:`moving_statistics_problem`); True always; False never. Re-estimated statistics go
    into a copy, never into the model's own generator.
    """
    require(batch_stats in BATCH_STATS_MODES,
            f"batch statistics {batch_stats!r}: expected one of {BATCH_STATS_MODES}")
    if not batch_norm_layers(served):
        return served, None
    if batch_stats == "batch":
        return served, (
            "batch norm uses the statistics of each request's own batch (--legacy-batch-stats, "
            "the original's prediction): outputs depend on the other z in the request, and a "
            "batch of 1 gives the same image for every z")
    problem = moving_statistics_problem(model)
    if reestimate is None:
        reestimate = problem is not None
    if not reestimate:
        note = "batch norm uses the run's moving statistics (inference mode)"
        if problem:
            note += f"; WARNING: {problem}"
        return served, note
    require(samples >= 2, f"--samples {samples}: re-estimating batch-norm statistics needs at least 2")
    resources.require_memory(samples * 12 * model.recipe.z_dim, f"re-estimating from --samples {samples} latent vectors",
                             f"give fewer (default {DEFAULT_REESTIMATE_SAMPLES})")
    generator = copy_generator(model) if served is model.generator else served
    reestimate_batch_norm(generator, sample_latents(samples, model.recipe.z_dim, seed))
    why = f" because {problem}" if problem else " as asked"
    return generator, (f"re-estimated batch-norm statistics from {samples} generated samples{why}; "
                       f"batch norm runs in inference mode on them (z seed {seed})")


def batch_statistics_forward(generator, z):
    """The generator with every batch norm normalising by the batch's own moments.

    What ``generator(z, training=True)`` computes, through the same Keras ops, but without
    the moving-average updates a training-mode call would write: a served graph must not
    change its own variables.
    """
    require(isinstance(generator, keras.Sequential),
            "--legacy-batch-stats needs a sequential generator")
    x = z
    for layer in generator.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            x = layer(x, training=False)
            continue
        axes = [axis for axis in range(len(x.shape)) if axis != len(x.shape) - 1]
        mean, variance = keras.ops.moments(x, axes=axes)
        x = keras.ops.batch_normalization(
            x, mean, variance, axis=-1, offset=layer.beta if layer.center else None,
            scale=layer.gamma if layer.scale else None, epsilon=layer.epsilon)
    return x


# --- the SavedModel ----------------------------------------------------------------------


def check_latents(z, z_dim):
    """``z`` after in-graph checks: rank 2, ``z_dim`` wide, every value finite.

    Failures raise ``InvalidArgumentError`` with a message naming the input ``z``: what a
    client of the SavedModel (or of TensorFlow Serving) sees instead of a shape error from
    inside the generator, or NaN images whose uint8 copy would read as black.

    The checks are asserts only, which the LiteRT and ONNX converters drop: the converted
    files take their input shape from the signature instead. The rank is counted from a
    data-dependent copy of ``tf.shape(z)``: the graph knows its static rank (2, from the
    signature), and a plain ``tf.rank`` would be folded to that constant, so a 1-D ``z`` would
    pass unchecked. The width is read only once the rank is known to be 2.
    """
    shape = tf.shape(z)
    rank = tf.size(tf.boolean_mask(shape, shape >= 0))
    is_matrix = tf.debugging.assert_equal(
        rank, tf.constant(2, rank.dtype),
        message=f"input z: expected a matrix, float32 [batch, {z_dim}] (x below: the rank sent)")
    with tf.control_dependencies([is_matrix]):
        width = tf.debugging.assert_equal(
            tf.shape(z)[-1], tf.constant(z_dim, shape.dtype),
            message=f"input z: wrong width; expected float32 [batch, {z_dim}], rows of {z_dim} "
                    f"values (x below: the width sent)")
    with tf.control_dependencies([is_matrix, width]):
        return tf.debugging.assert_all_finite(
            z, message="input z: NaN or infinite values; send finite latent vectors")


def output_channels(images, channel_order, channels):
    """The images' channels in RGB order, picked by index (a gather, a LiteRT builtin).

    Picking also gives an empty batch its images' shape: oneDNN's 1x1 convolution returns
    its input's channels for a batch of 0 (``[0, 28, 28, 16]`` for the vanilla GAN). A
    reshape or a slice to the static shape would be optimised away; a gather is not.
    """
    order = list(range(channels))
    # A generator trained on BGR pixels (the original's cv2 reads) has them reversed.
    return tf.gather(images, order[::-1] if channel_order == "bgr" else order, axis=-1)


def serving_function(generator, recipe, fidelity, batch_stats="population", channel_order="rgb"):
    """What the SavedModel's signature computes: ``z`` to ``{"images", "images_uint8"}``."""
    z_dim, channels = recipe.z_dim, int(recipe.image_shape[-1])

    def serve(z):
        # The declared [None, z_dim] is not enforced when the signature is called (nor by
        # TensorFlow Serving): a wrong width or rank would fail deep inside the first
        # matmul. Refuse them, and non-finite values, with messages that name the input.
        z = check_latents(z, z_dim)
        if batch_stats == "batch":
            outputs = batch_statistics_forward(generator, z)
        else:
            outputs = generator(z, training=False)
        images = recipe.generator_images(outputs, fidelity)
        images = tf.clip_by_value(output_channels(images, channel_order, channels), 0.0, 1.0)
        return {"images": images, "images_uint8": tf.cast(tf.round(images * 255.0), tf.uint8)}

    return serve


def version_folder(out_dir, version=1):
    """Where the SavedModel goes: ``out_dir/<version>`` or, with ``version=None``, ``out_dir``."""
    return out_dir if version is None else os.path.join(out_dir, str(int(version)))


def export_saved_model(model, out_dir, batch_stats="population", version=1, reestimate=None,
                       samples=DEFAULT_REESTIMATE_SAMPLES, seed=0, channel_order="rgb"):
    """Write the model's generator as a SavedModel; returns ``(path, generator, note)``.

    ``generator`` is what the SavedModel computes (a re-estimated copy where batch norm
    needed one) and ``note`` says how its batch norm normalises (None: it has none).
    """
    require(channel_order in ("rgb", "bgr"), f"channel order {channel_order!r}: expected rgb or bgr")
    target = version_folder(out_dir, version)
    if version is None:
        require(not os.path.exists(target) or (os.path.isdir(target) and not os.listdir(target)),
                f"{target}: already exists and is not an empty folder; give a new --out")
    else:
        require(not os.path.exists(target),
                f"{target}: already exists; pass --version N for a new version or remove it")
    generator, note = inference_generator(model, batch_stats, reestimate, samples, seed)
    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint(SIGNATURE, serving_function(generator, model.recipe, model.fidelity, batch_stats,
                                                     channel_order),
                         input_signature=[tf.TensorSpec([None, model.recipe.z_dim], tf.float32, name="z")])
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)

    def save(partial):
        archive.write_out(partial, verbose=False)
        # TensorFlow Serving's assets.extra is no part of a SavedModel, so not of ExportArchive.
        info = {"model": model.recipe.name, "fidelity": model.fidelity, "z_dim": model.recipe.z_dim,
                "image_shape": list(model.recipe.image_shape), "batch_norm": note,
                "batch_stats": batch_stats if batch_norm_layers(model.generator) else None,
                "step": int(model.step_counter.numpy()), "signature": SIGNATURE,
                "inputs": {"z": f"float32 [None, {model.recipe.z_dim}]"},
                "outputs": {"images": "float32 [N, H, W, C] in [0, 1], clipped",
                            "images_uint8": "uint8 round(images * 255)"}}
        os.makedirs(os.path.join(partial, "assets.extra"), exist_ok=True)
        with open(os.path.join(partial, "assets.extra", "export_info.json"), "w") as handle:
            json.dump(info, handle, indent=2)
        if os.path.isdir(target):  # an empty --no-version-folder target
            os.rmdir(target)

    # Written beside the target and renamed: TensorFlow Serving watches OUT for numeric
    # folders and would load a half-written one ("1.partial" is not a number).
    replace_atomically(target, save)
    return target, generator, note


# --- LiteRT and ONNX files ---------------------------------------------------------------


def reference_generation(model, generator, batch_stats="population", channel_order="rgb"):
    """``z -> (images in [0, 1], images_uint8)`` as ``generate --z`` computes them, for the
    generator an export serves.

    Where that is the run's own generator, it is exactly ``generate --z Z.npy`` with
    ``--batch-statistics no`` (``yes`` for ``--legacy-batch-stats``, on the same batch). A
    re-estimated generator is the same computation on the re-estimated statistics, which
    generate does not use (it normalises with the checkpoint's own), and a float32 copy of
    a mixed-precision run's generator the same computation in float32.
    """
    from common.images import to_uint8

    def generate(z):
        if generator is model.generator:
            raw = model.generator_outputs(z, batch_statistics=batch_stats == "batch")
        elif batch_stats == "batch":
            raw = batch_statistics_forward(generator, tf.constant(z))
        else:
            raw = generator(z, training=False)
        images = np.asarray(model.recipe.generator_images(raw, model.fidelity))
        if channel_order == "bgr":
            images = images[..., ::-1]
        return np.clip(images, 0.0, 1.0), to_uint8(images)

    return generate


def export_file(model, path, file_format, quantize="none", batch_stats="population", reestimate=None,
                samples=DEFAULT_REESTIMATE_SAMPLES, seed=0, channel_order="rgb"):
    """Write the generator as a checked LiteRT or ONNX file; returns ``(largest, levels, note)``.

    The file is converted from a SavedModel written to a scratch folder, so it computes what
    ``export`` would have served; ``largest`` and ``levels`` are its largest differences from
    :func:`reference_generation` (:func:`common.export_formats.write_checked`), and ``note``
    says how its batch norm normalises.
    """
    from common import export_formats

    export_formats.check_target(path, file_format, quantize)
    with tempfile.TemporaryDirectory(prefix="export-") as scratch:
        saved, generator, note = export_saved_model(
            model, os.path.join(scratch, "model"), batch_stats=batch_stats, version=None,
            reestimate=reestimate, samples=samples, seed=seed, channel_order=channel_order)
        content = export_formats.convert(saved, file_format, quantize)
    z = sample_latents(export_formats.CHECK_BATCH, model.recipe.z_dim, CHECK_SEED)
    largest, levels = export_formats.write_checked(
        path, content, file_format, reference_generation(model, generator, batch_stats, channel_order), z,
        quantized=quantize != "none")
    return largest, levels, note


# --- the .keras format -------------------------------------------------------------------


def save_keras(model, path, run_config=None):
    """The whole GAN in Keras' ``.keras`` format (written atomically)."""
    require(str(path).endswith(".keras"), f"--out {path}: a Keras file must end in .keras")
    if run_config is not None:
        model.run_config = dict(run_config)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with warnings.catch_warnings():
        # The wrapper model is never called, so Keras thinks it unbuilt; its generator,
        # discriminator and optimiser slots are all built and saved.
        warnings.filterwarnings("ignore", message="You are saving a model that has not yet been built")
        warnings.filterwarnings("ignore", message=r"__array__ implementation doesn't accept a copy")
        return replace_atomically(path, model.save, suffix=".partial.keras")  # Keras wants .keras


def load_keras(path):
    """A compiled :class:`~common.adversarial.AdversarialModel` from a ``.keras`` file (safe mode)."""
    from common.adversarial import AdversarialModel

    require(os.path.isfile(path), f"{path}: no such file; give a .keras file written by export --format keras")
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:
        raise UserError(f"{path}: not a loadable .keras GAN ({exc.__class__.__name__}: {exc})") from exc
    require(isinstance(model, AdversarialModel),
            f"{path}: holds a {type(model).__name__}, not a GAN written by export --format keras")
    return model


def import_keras(path, run_dir, recipes, data=None):
    """Turn a ``.keras`` file into a run folder (config.json and a checkpoint); returns the RunFolder."""
    from common.run import RunFolder

    model = load_keras(path)
    name = model.recipe.name
    require(name in recipes and recipes[name].build_generator is model.recipe.build_generator,
            f"{path}: holds a {name!r} model, this command handles {sorted(recipes)}; "
            f"use the other program's import-keras")
    recipe = model.recipe
    lr = float(model.d_optimizer.learning_rate.numpy())
    config = {"model": name, "fidelity": model.fidelity, "z_dim": recipe.z_dim,
              "image_shape": list(recipe.image_shape), "seed": model.seed, "beta1": recipe.beta1,
              "batch_size": recipe.default_batch_size, "learning_rate": lr, "data": None,
              "steps": recipe.default_steps}
    kept = {key: value for key, value in model.run_config.items()
            if key not in ("version", "steps_done", "global_step", "logs_dir", "best")}
    config.update(kept)
    if data is not None:
        config["data"] = data
    run = RunFolder.create(run_dir, config)
    run.save(model)
    return run, model


# --- the commands ------------------------------------------------------------------------


def generator_channel_order(config):
    """``("rgb" | "bgr", reason or None)``: the colour order a run's generator produces.

    The port reads faces as RGB, so its generators make RGB. The original read them with
    ``cv2.imread`` (BGR), so a face generator imported from one of its checkpoints makes
    BGR images (quirk Q7); a run folder may also say so itself in ``channel_order``.
    """
    if config.channel_order in ("rgb", "bgr"):
        return config.channel_order, None
    if config.imported_from and list(config.image_shape)[-1:] == [3]:
        return "bgr", ("its generator comes from a checkpoint of the original, which trained on "
                       "BGR pixels (cv2.imread)")
    return "rgb", None


def _add_export_arguments(parser, family):
    parser.add_argument("--run", required=True, help="a run folder written by train")
    add_checkpoint_argument(parser, family, default="auto")
    add_ema_argument(parser)
    parser.add_argument("--out", required=True,
                        help="SavedModel: the model folder (the export goes to OUT/1/, the layout "
                             "TensorFlow Serving reads); --format keras: a FILE.keras; tflite: a "
                             "FILE.tflite; onnx: a FILE.onnx")
    parser.add_argument("--format", choices=("saved_model", "keras", *FILE_FORMATS), default="saved_model",
                        help="saved_model (default): the generator for TensorFlow Serving or plain "
                             "TensorFlow; tflite: a LiteRT flatbuffer (builtin ops only); onnx: an "
                             "ONNX file (opset 17). Both hold the SavedModel's computation, are "
                             "loaded in their own runtime and checked against generate's images "
                             "before they are kept. keras: the whole GAN with its optimiser state (and its "
                             "averaged generator, if any, beside the raw one), to move a run and "
                             "resume it (see import-keras); it takes the latest checkpoint unless "
                             "--checkpoint says otherwise")
    parser.add_argument("--quantize", choices=QUANTIZATIONS, default="none",
                        help="--format tflite only: float16 stores the weights as float16 (half the "
                             "size), dynamic as int8 (a quarter); both change the images a little, "
                             "and the check reports by how much. Default none (float32)")
    versions = parser.add_mutually_exclusive_group()
    versions.add_argument("--version", type=positive_int, default=1,
                          help="the version folder number under --out (default 1)")
    versions.add_argument("--no-version-folder", action="store_true",
                          help="write the SavedModel directly into --out")
    batch_norm = models_with_batch_norm(family)
    where = f"{batch_norm} only" if batch_norm else f"which no {family.prog} model has"
    parser.add_argument("--legacy-batch-stats", action="store_true",
                        help=f"batch norm ({where}) normalises by each request's own "
                             "batch statistics, as the original's prediction did: outputs then "
                             "depend on the whole batch, and a batch of 1 is degenerate (every "
                             "image the same). Default: population statistics (inference mode)")
    parser.add_argument("--reestimate-statistics", action="store_true",
                        help="re-estimate batch norm's population statistics from generated "
                             "samples even when the run's moving statistics are valid (they are "
                             "re-estimated anyway in legacy fidelity and for never-updated ones)")
    parser.add_argument("--samples", type=positive_int, default=DEFAULT_REESTIMATE_SAMPLES,
                        help=f"z samples for re-estimating batch-norm statistics "
                             f"(default {DEFAULT_REESTIMATE_SAMPLES})")
    parser.add_argument("--seed", type=seed_int, default=0,
                        help="seed of those z samples (default 0)")
    parser.add_argument("--generator-channels", choices=("auto", "rgb", "bgr"), default="auto",
                        help="colour order the run's generator produces; the SavedModel always "
                             "returns RGB (auto: BGR for a colour generator imported from the "
                             "original's checkpoints, which trained on cv2's BGR pixels; else RGB)")


def _run_export(args, family):
    from common.run import RunFolder

    run = RunFolder.open(args.run, family.recipes)

    def note(message):
        print(f"{family.prog}: {message}", file=sys.stderr)

    require(args.quantize == "none" or args.format == "tflite",
            f"--quantize {args.quantize} applies to --format tflite only")
    if args.format in FILE_FORMATS:
        check_target(args.out, args.format, args.quantize)  # before the model loads
    if args.format == "keras":
        require(not args.legacy_batch_stats and not args.reestimate_statistics,
                "--legacy-batch-stats and --reestimate-statistics apply to generator exports (SavedModel, "
                "tflite, onnx); a .keras file keeps the model as trained")
        require(args.out.endswith(".keras"), f"--out {args.out}: with --format keras, give a FILE.keras")
        which = "latest" if args.checkpoint == "auto" else args.checkpoint  # moving a run: its newest state
        model = run.load_model(family.recipes, expect_partial=False, which=which, print_fn=note)
        save_keras(model, args.out, run_config=run.config.to_dict())
        print(f"{family.prog}: wrote the whole GAN (step {int(model.step_counter.numpy())}, optimiser "
              f"state included) to {args.out}; continue it elsewhere with: {family.prog} "
              f"import-keras --file {args.out} --out RUN_DIR, then train --resume --out RUN_DIR")
        return 0
    model = run.load_model(family.recipes, which=args.checkpoint, print_fn=note, averaged=not args.no_ema)
    batch_stats = "batch" if args.legacy_batch_stats else "population"
    channel_order, why = generator_channel_order(run.config)
    if args.generator_channels != "auto":
        channel_order, why = args.generator_channels, None
    options = dict(batch_stats=batch_stats, reestimate=True if args.reestimate_statistics else None,
                   samples=args.samples, seed=args.seed, channel_order=channel_order)
    if args.format in FILE_FORMATS:
        largest, levels, note = export_file(model, args.out, args.format, args.quantize, **options)
    else:
        path, _, note = export_saved_model(
            model, args.out, version=None if args.no_version_folder else args.version, **options)
    if note:
        print(f"{family.prog}: {note}")
    if channel_order == "bgr":
        print(f"{family.prog}: the export reverses the generator's BGR channels to RGB"
              + (f" because {why}" if why else ""))
    recipe = model.recipe
    shape = ", ".join(str(d) for d in recipe.image_shape)
    takes = (f"takes z (float32 [None, {recipe.z_dim}]) and returns images (float32 [N, {shape}] in [0, 1]) "
             f"and images_uint8")
    if args.format == "saved_model":
        print(f"{family.prog}: wrote a SavedModel of the {recipe.name} generator to {path}: signature "
              f"'{SIGNATURE}' {takes}")
        return 0
    runtime = "ai-edge-litert's interpreter" if args.format == "tflite" else "onnxruntime"
    weights = {"none": "float32", "float16": "float16", "dynamic": "int8"}[args.quantize]
    print(f"{family.prog}: wrote {FILE_DESCRIPTIONS[args.format]} ({weights} weights, "
          f"{os.path.getsize(args.out) / 2 ** 20:.1f} MiB) of the {recipe.name} generator to {args.out}: it "
          f"{takes}")
    print(f"{family.prog}: checked in {runtime} against the generator's own images (generate --seed "
          f"{CHECK_SEED} -n 64's z, as one batch and 4 singly): largest difference {largest:.3g} in "
          f"images, {levels} uint8 level(s)")
    return 0


FILE_DESCRIPTIONS = {"tflite": "a LiteRT flatbuffer", "onnx": "an ONNX file, opset 17"}


EXPORT = Command("export", "export a trained generator as a TensorFlow SavedModel (or the whole "
                           "GAN as a .keras file)", _add_export_arguments, _run_export)


def _add_import_keras_arguments(parser, family):
    parser.add_argument("--file", required=True, help="a .keras file written by export --format keras")
    parser.add_argument("--out", required=True, help="the run folder to create")
    parser.add_argument("--data", default=None,
                        help="the training data on this machine, for train --resume (default: "
                             "the path the run was trained on)")


def _run_import_keras(args, family):
    run, model = import_keras(args.file, args.out, family.recipes, data=args.data)
    print(f"{family.prog}: imported {args.file} into {run.path} at iteration "
          f"{max(model.iteration, 0)}; continue with: {family.prog} train --resume --out {run.path} "
          f"--steps N")
    return 0


IMPORT_KERAS = Command("import-keras", "turn a .keras file from export --format keras into a run folder",
                       _add_import_keras_arguments, _run_import_keras)
