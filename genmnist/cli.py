"""``genmnist``: the command line for the two MNIST models."""

import dataclasses

from common import cli, commands, data, evaluation, export, generation
from common.legacy_tf1 import commands as tf1_commands
from genmnist import EMBEDDED

COMMANDS = (commands.TRAIN, generation.GENERATE, export.EXPORT, export.IMPORT_KERAS, *tf1_commands.COMMANDS,
            dataclasses.replace(evaluation.EVALUATE,
                                help="score generated digits, and held-out real ones for comparison: "
                                     "classifier score, Frechet distance in a digit classifier's features, "
                                     "share of each digit (see docs/evaluation.md)"))


def read_mnist(path, recipe, args=None):
    """Images for a MNIST model: the embedded 10k sample unless --data names a file."""
    return data.read_images(path or EMBEDDED, recipe.image_shape)


def embedded_digits(recipe, count, seed=0):
    """compare's real images without --data: the first ``count`` embedded digits."""
    return data.read_images(EMBEDDED, recipe.image_shape)[:max(count, 1)]


def mnist_scorer(print_fn=print, data=None, images=None, options=None):
    """The scorer of digits; it always compares with the embedded sample, whatever ``data`` was."""
    from genmnist.classifier import MnistScorer

    return MnistScorer(print_fn=print_fn)


def family():
    from genmnist.models import PRESETS, RECIPES

    return cli.Family(
        prog="genmnist",
        description="The MNIST GANs of junqiangchen/GAN (TF1), ported to TensorFlow 2 / Keras 3.",
        recipes=RECIPES, presets=PRESETS, default_model="gan", read_data=read_mnist, evaluator=mnist_scorer,
        commands=COMMANDS, names_data=lambda text: text == "keras", default_data="the embedded MNIST digits",
        default_images=embedded_digits,
        data_help="training images: a .npz with an 'x' array (or Keras' mnist.npz), the "
                  "original's CSV (label, then 784 pixels), an MNIST IDX file or folder "
                  "(raw or .gz), or 'keras' for keras.datasets.mnist; default: the embedded "
                  "10,000-digit MNIST sample. Pixel values: integers are read as 0..255, floats "
                  "in [0, 1] are multiplied by 255 (other floats must lie in 0..255); integer "
                  "data that is all 0..1 (a 0/1 mask) is read as 0..255, nearly black, with a "
                  "warning; complex and boolean arrays are refused")


def main(argv=None):
    return cli.main(family(), argv)
