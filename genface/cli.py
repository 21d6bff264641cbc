"""``genface``: the command line for the faces WGAN-GP (the original's ``face_gantest.py``).

The same ``train`` / ``generate`` commands and run folder as ``genmnist`` (both come from
:mod:`common.cli`); what is particular to faces is the data (:mod:`genface.data`) and
``generate --scale-factor``, the role the original's ``imresize`` step had.
"""

from common import cli
from genface import data


def add_face_data_arguments(parser):
    parser.add_argument("--resize", action="store_true",
                        help="resize images that are not 96x96 to 96x96 (bilinear, stretched "
                             "rather than cropped); default: such an image is an error naming it")
    parser.add_argument("--skip-bad", action="store_true",
                        help="leave out files that are missing, unreadable, grayscale or of the "
                             "wrong size, and report how many; default: the first one is an "
                             "error naming it")
    parser.add_argument("--memory-budget-mb", type=cli.positive_float,
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


def family():
    from genface.models import RECIPES

    return cli.Family(
        prog="genface",
        description="The faces WGAN-GP of junqiangchen/GAN (TF1), ported to TensorFlow 2 / Keras 3.",
        recipes=RECIPES, default_model="face", read_data=read_faces,
        data_help="training faces, 96x96 colour: the original's face_data.csv (image paths in the "
                  "first column, relative to the CSV's folder), a folder of .png/.jpg/.bmp images, "
                  f"or cartoon[:N] for N faces drawn by the project; default: "
                  f"{data.DEFAULT_CARTOON_FACES} cartoon faces",
        add_data_arguments=add_face_data_arguments, generate_scale=True)


def main(argv=None):
    return cli.main(family(), argv)

