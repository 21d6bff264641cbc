"""``genface``: the command line for the faces WGAN-GP (the original's ``face_gantest.py``).

The same commands and run folder as ``genmnist`` (from :mod:`common`); what is particular
to faces is the data (:mod:`genface.data`), ``generate --scale-factor``, the role the
original's ``imresize`` step had, and the scorer (:mod:`genface.scorer`).
"""

import dataclasses

from common import cli, commands, evaluation, export, generation
from common.arguments import positive_float, positive_int
from common.legacy_tf1 import commands as tf1_commands
from genface import data

COMMANDS = (commands.TRAIN, generation.GENERATE, export.EXPORT, export.IMPORT_KERAS, *tf1_commands.COMMANDS,
            dataclasses.replace(evaluation.EVALUATE,
                                help="score generated faces, and held-out real ones for comparison: Frechet "
                                     "distance in a cartoon-face classifier's features, coverage of each face "
                                     "factor, on request the Kernel Inception Distance (see docs/evaluation.md)"))


def add_face_data_arguments(parser):
    parser.add_argument("--resize", action="store_true",
                        help="resize images that are not 96x96 to 96x96 (bilinear, stretched "
                             "rather than cropped); default: such an image is an error naming it")
    parser.add_argument("--skip-bad", action="store_true",
                        help="leave out files that are missing, unreadable, grayscale or of the "
                             "wrong size, and report how many; default: the first one is an "
                             "error naming it")
    parser.add_argument("--memory-budget-mb", type=positive_float,
                        default=data.DEFAULT_MEMORY_BUDGET_MB,
                        help="hold the faces in memory as uint8 (27 KiB each) while they fit in "
                             "this many MiB, else stream them from disk with parallel decoding "
                             f"(default {data.DEFAULT_MEMORY_BUDGET_MB}: about 38,800 faces)")


def read_faces(path, recipe, args=None):
    """Faces for ``train``: the cartoon faces unless --data names a CSV or folder."""
    return data.read_faces(
        path, recipe.image_shape,
        resize=getattr(args, "resize", False), skip_bad=getattr(args, "skip_bad", False),
        memory_budget_mb=getattr(args, "memory_budget_mb", data.DEFAULT_MEMORY_BUDGET_MB),
        print_fn=lambda message: print(f"genface: {message}"))


def drawn_faces(recipe, count, seed=0):
    """compare's real images without --data: ``count`` cartoon faces drawn from ``seed``."""
    from genface.cartoon import draw_faces

    return draw_faces(count, seed=seed)


def face_scorer(print_fn=print, data=None, images=None, options=None):
    """The scorer of faces: against the cartoon faces, or the user's own when ``data`` names them."""
    from genface import data as face_data
    from genface.scorer import KID_SAMPLES, FaceScorer

    own = data is not None and not face_data.is_cartoon(data)
    if own and images is None:
        images = face_data.read_faces(
            data, face_data.IMAGE_SHAPE, resize=getattr(options, "resize", False),
            skip_bad=getattr(options, "skip_bad", False),
            memory_budget_mb=getattr(options, "memory_budget_mb", face_data.DEFAULT_MEMORY_BUDGET_MB),
            print_fn=print_fn)
    return FaceScorer(print_fn=print_fn, real_faces=images if own else None, real_name=data,
                      inception_weights=getattr(options, "inception_weights", None),
                      kid_samples=getattr(options, "kid_samples", KID_SAMPLES))


def add_face_evaluate_arguments(parser):
    from genface.scorer import KID_SAMPLES

    parser.add_argument("--data", default=None,
                        help="real faces to compare with, as train takes them (a face_data.csv, a "
                             "folder of images, or cartoon); default: what the --run learnt from, "
                             "else the cartoon faces")
    parser.add_argument("--inception-weights", default=None, metavar="FILE",
                        help="also give the Kernel Inception Distance, in the features of "
                             "InceptionV3 with these weights (Keras' no-top .h5 file, which you "
                             "provide; nothing is downloaded)")
    parser.add_argument("--kid-samples", type=positive_int, default=KID_SAMPLES,
                        help="faces of each set the KID uses (default 1000; InceptionV3 is slow "
                             "on a CPU)")
    add_face_data_arguments(parser)


def family():
    from genface.models import PRESETS, RECIPES

    return cli.Family(
        prog="genface",
        description="The faces WGAN-GP of junqiangchen/GAN (TF1), ported to TensorFlow 2 / Keras 3.",
        recipes=RECIPES, presets=PRESETS, default_model="face", read_data=read_faces,
        data_help="training faces, 96x96 colour: the original's face_data.csv (image paths in the "
                  "first column, relative to the CSV's folder), a folder of .png/.jpg/.bmp images, "
                  f"or cartoon[:N] for N faces drawn by the project; default: "
                  f"{data.DEFAULT_CARTOON_FACES} cartoon faces",
        add_data_arguments=add_face_data_arguments, data_options=("resize", "skip_bad"), generate_scale=True,
        evaluator=face_scorer, add_evaluate_arguments=add_face_evaluate_arguments,
        commands=COMMANDS, names_data=data.is_cartoon, default_data="cartoon faces drawn by the project",
        default_images=drawn_faces)


def main(argv=None):
    return cli.main(family(), argv)

