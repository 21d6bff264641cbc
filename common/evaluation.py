"""``evaluate``: how good are the samples, in numbers, and how good could they be.

Scores generated images with the family's scorer and prints JSON: what the scorer rests
on (its classifier's held-out accuracy, its reference set), the numbers for the
generated images, and the same numbers for held-out real images, the ceiling. For MNIST
(:class:`genmnist.classifier.MnistScorer`): the classifier score, the Frechet distance to
real digits in the classifier's features and the fraction of samples per predicted
digit. For faces (:class:`genface.scorer.FaceScorer`): the Frechet distance in a
cartoon-face classifier's features, per-factor coverage, and on request the Kernel
Inception Distance. The images come from a run folder, an exported SavedModel, LiteRT or
ONNX file, or an ``.npz`` of images. :class:`EvaluationMonitor` logs the scorer's numbers
to TensorBoard during training (``train --eval-every N``).

A scorer has ``score(images)`` and ``ceiling()`` (dicts for the report), ``about()``
(the report's header) and ``scalars(result)`` (name -> number, for TensorBoard).
"""

import json
import os
import sys

import keras
import numpy as np
import tensorflow as tf

from common import resources
from common.arguments import Command, add_checkpoint_argument, add_ema_argument, positive_int, seed_int
from common.errors import UserError, require
from common.run import load_run_model
from common.latents import sample_latents


def generate_from_run(path, family, count, seed, which="auto", averaged=True):
    """(``count`` generated images, the run's config)."""
    run, model = load_run_model(path, family, which, averaged=averaged)
    return generate_images(model, count, seed, run.config.batch_size), run.config


def generate_images(model, count, seed, batch_size):
    """``count`` images in [0, 1], generated in batches of the training batch size.

    In legacy fidelity the generator normalises by each batch's own statistics, so the
    batch size is part of the output's definition: the one the run trained with is used.
    """
    z = sample_latents(count, model.recipe.z_dim, seed)
    chunks = [np.asarray(model.generate(z[k:k + batch_size])) for k in range(0, count, batch_size)]
    return np.clip(np.concatenate(chunks), 0.0, 1.0)


def generate_from_saved_model(path, count, seed):
    require(os.path.isdir(path), f"{path}: no such SavedModel folder")
    candidates = [path] + sorted((os.path.join(path, d) for d in os.listdir(path) if d.isdigit()),
                                 key=lambda p: int(os.path.basename(p)), reverse=True)
    folder = next((p for p in candidates if os.path.exists(os.path.join(p, "saved_model.pb"))), None)
    require(folder is not None, f"{path}: holds no saved_model.pb (nor a version folder with one); "
                                f"give the folder written by export")
    serving = tf.saved_model.load(folder).signatures["serving_default"]
    spec = serving.structured_input_signature[1]["z"]
    return generate_with(lambda z: serving(z=tf.constant(z)), int(spec.shape[-1]), count, seed)


def generate_from_exported_file(path, count, seed):
    """Images from a LiteRT or ONNX file written by export, run in its own runtime."""
    from common.export_formats import Runtime

    require(os.path.isfile(path), f"{path}: no such file; --exported takes a .tflite or .onnx written by export")
    runtime = Runtime(path)
    return generate_with(runtime, runtime.z_dim, count, seed)


def generate_with(serve, z_dim, count, seed):
    """``count`` images in [0, 1] from ``serve(z)["images"]``, on seeded z in batches of 500."""
    z = sample_latents(count, z_dim, seed)
    images = np.concatenate([np.asarray(serve(z[k:k + 500])["images"]) for k in range(0, count, 500)])
    return np.clip(images, 0.0, 1.0)


def images_from_file(path):
    require(os.path.exists(path), f"{path}: no such file; --images takes an .npz written by generate")
    try:
        with np.load(path, allow_pickle=False) as archive:
            require("images" in archive.files, f"{path}: no 'images' array (found {sorted(archive.files)}); "
                                               f"write one with generate --out FILE.npz")
            images = archive["images"]
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"{path}: not a readable .npz ({exc.__class__.__name__}: {exc})") from exc
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    require(np.issubdtype(images.dtype, np.floating) and np.all(np.isfinite(images)),
            f"{path}: 'images' must be uint8 or finite floats in [0, 1]")
    return np.clip(images, 0.0, 1.0)


def check_images(images, family, source):
    """``images`` as [N, H, W, C] of the family's image shape, at least 2 of them, or a UserError."""
    shape = tuple(family.recipes[family.default_model].image_shape)
    if images.ndim == 3 and shape[-1] == 1:
        images = images[..., None]
    require(images.ndim == 4 and tuple(images.shape[1:]) == shape,
            f"{source}: images of shape {list(images.shape)}, {family.prog} scores [N, {', '.join(map(str, shape))}]")
    require(len(images) >= 2, f"{source}: {len(images)} image(s); scoring needs at least 2")
    return images


MONITOR_SAMPLES = 1000  # generated images each train --eval-every scores


class EvaluationMonitor(keras.callbacks.Callback):
    """Every ``every`` iterations, score ``count`` samples and log them to TensorBoard.

    The samples come from the averaged generator where the model keeps one (what generate
    uses). With ``run`` (a :class:`~common.run.RunFolder`), a score with the lowest Frechet
    distance so far makes the model the run's best checkpoint (``RunFolder.offer_best``).
    """

    def __init__(self, scorer, writer_dir, every, count=None, seed=0, batch_size=128, run=None):
        super().__init__()
        self.scorer, self.every, self.seed = scorer, every, seed
        self.count = count or MONITOR_SAMPLES
        self.batch_size = batch_size
        self.run = run
        self.writer = tf.summary.create_file_writer(writer_dir)

    def samples(self):
        model = self.model
        if not model.ema_variables:
            return generate_images(model, self.count, self.seed, self.batch_size)
        with model.averages.in_generator():
            return generate_images(model, self.count, self.seed, self.batch_size)

    def on_train_batch_end(self, batch, logs=None):
        done = self.model.iteration
        if done <= 0 or done % self.every:
            return
        result = self.scorer.score(self.samples())
        if self.run is not None:
            self.run.offer_best(self.model, result)
        with self.writer.as_default(step=done - 1):
            for name, value in self.scorer.scalars(result).items():
                tf.summary.scalar(f"eval/{name}", value)
        self.writer.flush()


def _add_arguments(parser, family):
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="a run folder written by train")
    source.add_argument("--saved-model", help="a SavedModel folder written by export")
    source.add_argument("--images", help="an .npz with an 'images' array, as generate writes")
    source.add_argument("--exported", help="a .tflite or .onnx file written by export, run in its own "
                                           "runtime (ai-edge-litert, onnxruntime)")
    parser.add_argument("-n", type=positive_int, default=2000,
                        help="how many images to generate and score (default 2000, the size of "
                             "the held-out real set)")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed of the latent vectors")
    add_checkpoint_argument(parser, family, default="auto")
    add_ema_argument(parser)
    parser.add_argument("--out", default=None, help="also write the JSON to this file")
    if family.add_evaluate_arguments:
        family.add_evaluate_arguments(parser)


def _run(args, family):
    require(family.evaluator is not None, f"{family.prog} has no evaluate: the metrics need a "
                                          f"classifier of the data's domain")
    data = getattr(args, "data", None)  # the real images to compare with, where the family takes them
    if not args.images:  # generated and scored in float32, with their z and features beside them
        image_values = int(np.prod(family.recipes[family.default_model].image_shape))
        resources.require_memory(args.n * (8 * image_values + 2048), f"scoring -n {args.n} images",
                                 "score fewer (a smaller -n; the real held-out set has 2000)")
    if args.run:
        (images, config), source = generate_from_run(args.run, family, args.n, args.seed, args.checkpoint,
                                                     averaged=not args.no_ema), args.run
        args = config.reading_data(args, data)  # the run's own data is read as train read it
        data = data or config.data  # by default, what the run learnt from
    elif args.saved_model:
        images, source = generate_from_saved_model(args.saved_model, args.n, args.seed), args.saved_model
    elif args.exported:
        images, source = generate_from_exported_file(args.exported, args.n, args.seed), args.exported
    else:
        images, source = images_from_file(args.images), args.images
    images = check_images(images, family, source)
    scorer = family.evaluator(print_fn=lambda message: print(message, file=sys.stderr), data=data, options=args)
    report = {"source": source, **scorer.about(), "generated": scorer.score(images), "real_held_out": scorer.ceiling()}
    real_count = report["real_held_out"].get("samples")
    if real_count and len(images) < real_count:
        print(f"{family.prog}: warning: {len(images)} samples scored against {int(real_count)} real ones: the "
              f"Frechet distance grows as the sample shrinks, so it is comparable only at equal counts "
              f"(-n {int(real_count)})", file=sys.stderr)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    return 0


# Each program gives it a help line of its own scorer's numbers.
EVALUATE = Command("evaluate", "score generated images, and held-out real ones for comparison (see "
                               "docs/evaluation.md)", _add_arguments, _run)
