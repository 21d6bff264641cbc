"""``evaluate``: how good are the samples, in numbers, and how good could they be.

Scores generated images with the family's scorer (for MNIST, :class:`genmnist.classifier.
MnistScorer`) and prints JSON: the classifier score, the Frechet distance to real digits in
the classifier's feature space, the fraction of samples per predicted class, and the same
numbers for held-out real digits, the ceiling. The images come from a run folder, an
exported SavedModel, or an ``.npz`` of images. :class:`EvaluationMonitor` logs the same
numbers to TensorBoard during training (``train --eval-every N``).
"""

import json
import os
import sys

import keras
import numpy as np
import tensorflow as tf

from common import cli
from common.errors import UserError, require
from common.training import sample_latents


def generate_from_run(path, family, count, seed, which="auto", averaged=True):
    run, model = cli.load_run_model(path, family, which, averaged=averaged)
    return generate_images(model, count, seed, run.config.batch_size)


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
    z = sample_latents(count, int(spec.shape[-1]), seed)
    images = np.concatenate([serving(z=tf.constant(z[k:k + 500]))["images"].numpy()
                             for k in range(0, count, 500)])
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


class EvaluationMonitor(keras.callbacks.Callback):
    """Every ``every`` iterations, score ``count`` samples and log them to TensorBoard.

    The samples come from the averaged generator where the model keeps one (what generate
    uses). With ``run`` (a :class:`~common.run.RunFolder`), a score with the lowest Frechet
    distance so far makes the model the run's best checkpoint (``RunFolder.offer_best``).
    """

    def __init__(self, scorer, writer_dir, every, count=1000, seed=0, batch_size=128, run=None):
        super().__init__()
        self.scorer, self.every, self.count, self.seed = scorer, every, count, seed
        self.batch_size = batch_size
        self.run = run
        self.writer = tf.summary.create_file_writer(writer_dir)

    def samples(self):
        model = self.model
        if not model.ema_variables:
            return generate_images(model, self.count, self.seed, self.batch_size)
        with model.averaged_generator():
            return generate_images(model, self.count, self.seed, self.batch_size)

    def on_train_batch_end(self, batch, logs=None):
        done = self.model.iteration
        if done <= 0 or done % self.every:
            return
        result = self.scorer.score(self.samples())
        if self.run is not None:
            self.run.offer_best(self.model, result)
        with self.writer.as_default(step=done - 1):
            tf.summary.scalar("eval/classifier_score", result["classifier_score"])
            tf.summary.scalar("eval/frechet_distance", result["frechet_distance"])
            tf.summary.scalar("eval/largest_class_fraction", max(result["class_fractions"]))
        self.writer.flush()


def _add_arguments(parser, family):
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="a run folder written by train")
    source.add_argument("--saved-model", help="a SavedModel folder written by export")
    source.add_argument("--images", help="an .npz with an 'images' array, as generate writes")
    parser.add_argument("-n", type=cli.positive_int, default=2000,
                        help="how many images to generate and score (default 2000, the size of "
                             "the held-out real set)")
    parser.add_argument("--seed", type=cli.seed_int, default=0, help="seed of the latent vectors")
    cli.add_checkpoint_argument(parser, default="auto")
    cli.add_ema_argument(parser)
    parser.add_argument("--out", default=None, help="also write the JSON to this file")


def _run(args, family):
    require(family.evaluator is not None, f"{family.prog} has no evaluate yet: the metrics need a "
                                          f"classifier of the data's domain, which only genmnist has")
    if args.run:
        images = generate_from_run(args.run, family, args.n, args.seed, args.checkpoint, averaged=not args.no_ema)
        source = args.run
    elif args.saved_model:
        images, source = generate_from_saved_model(args.saved_model, args.n, args.seed), args.saved_model
    else:
        images, source = images_from_file(args.images), args.images
    scorer = family.evaluator(print_fn=lambda message: print(message, file=sys.stderr))
    report = {"source": source, "classifier_accuracy": scorer.accuracy,
              "generated": scorer.score(images), "real_held_out": scorer.ceiling()}
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    return 0


cli.register(cli.Command("evaluate", "score generated images: classifier score, Frechet distance, "
                                     "class fractions, against held-out real digits", _add_arguments, _run))
