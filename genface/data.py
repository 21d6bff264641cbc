"""Face images for the faces WGAN-GP: where they come from, how they are checked and held.

The original read ``face_data.csv`` with pandas (so its first row was always a header),
``cv2.imread`` every listed file into one float64 array (8 bytes a pixel: 221 KB a face,
11 GB for 50,000 faces) and fed BGR pixels to a model whose samples were written as RGB,
so its faces came out blue-tinted (quirk Q7). Here:

* **Sources.** The original's CSV (first column an image path; relative paths resolved
  against the CSV's folder; a header row or not), a folder of ``.png``/``.jpg``/``.bmp``
  images, or ``cartoon[:N]``: N (default 2048) faces drawn by :mod:`genface.cartoon`, the
  default, so training runs on a machine without a face data set.
* **Checks.** Every file is decoded once before training, in parallel, and must be a
  96x96 colour image. A missing or unreadable file, a grayscale image or one of another
  size is an error naming the file (``--resize`` resizes other sizes, ``--skip-bad``
  leaves bad files out and counts them), so a run never stops hours in on a bad file and
  its list of images, hence its batches, is fixed before the first step.
* **Colour.** Pixels are read as ``cv2.imread`` reads them and converted to RGB at once;
  everything after this module is RGB, and the sample grids show true colours.
* **Memory.** Faces are held as uint8 (27,648 bytes each). A data set larger than the
  memory budget (``--memory-budget-mb``, default :data:`DEFAULT_MEMORY_BUDGET_MB`) is not
  loaded: it stays a :class:`common.data.ImageFiles` and streams from disk through
  ``tf.data`` with parallel decoding. Both ways decode with :func:`decode_face`, so a
  run's batches do not depend on which way it was held.
"""

import concurrent.futures
import csv
import functools
import os

import cv2
import numpy as np

from common import images as image_io
from common import resources
from common.data import ImageFiles
from common.errors import UserError, require

IMAGE_SHAPE = (96, 96, 3)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
DEFAULT_MEMORY_BUDGET_MB = 1024
CARTOON = "cartoon"
DEFAULT_CARTOON_FACES = 2048
CARTOON_SEED = 0
_CHECK_CHUNK = 256  # files decoded per round of the up-front check


class BadImage(UserError):
    """One file that cannot be used; ``reason`` says why without the path."""

    def __init__(self, path, reason, remedy):
        super().__init__(f"{path}: {reason}; {remedy}")
        self.path = path
        self.reason = reason


# --- one file ---------------------------------------------------------------------------


def decode_face(path, image_shape=IMAGE_SHAPE, resize=False):
    """One image file as RGB uint8 ``image_shape``, or :class:`BadImage` saying what is wrong.

    ``IMREAD_ANYCOLOR`` decodes as the original's ``IMREAD_COLOR`` did for colour files
    (8-bit BGR, alpha dropped, EXIF orientation applied) but keeps a grayscale file at one
    channel, so it can be refused instead of silently becoming a gray "colour" face.
    ``resize`` stretches other sizes to ``image_shape`` with the project's one resize
    (PIL bilinear, antialiased when shrinking).
    """
    height, width, _ = image_shape
    skip = "or pass --skip-bad to leave it out"
    if not os.path.isfile(path):
        raise BadImage(path, "no such file", f"check the path (a CSV's relative paths are "
                                             f"resolved against the CSV's folder), {skip}")
    try:
        encoded = np.fromfile(path, dtype=np.uint8)
        image = cv2.imdecode(encoded, cv2.IMREAD_ANYCOLOR) if encoded.size else None
    except (OSError, cv2.error) as exc:
        raise BadImage(path, f"cannot be read ({exc})", f"fix or remove it, {skip}") from None
    if image is None:
        raise BadImage(path, "not a readable image (corrupt, or not PNG/JPEG/BMP)",
                       f"replace or remove it, {skip}")
    if image.ndim == 2 or image.shape[2] == 1:
        raise BadImage(path, f"grayscale image ({image.shape[1]}x{image.shape[0]}, 1 channel), "
                             f"the faces model needs colour (3 channels)",
                       f"convert it to RGB, {skip}")
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.shape[:2] != (height, width):
        if not resize:
            raise BadImage(path, f"image is {image.shape[1]}x{image.shape[0]}, the faces model "
                                 f"needs {width}x{height}",
                           f"pass --resize to resize such images, {skip}")
        image = image_io.resize(image[None], size=(height, width))[0]
    return image


# --- lists of files ---------------------------------------------------------------------


def _looks_like_image_path(cell, folder):
    return (cell.lower().endswith(IMAGE_SUFFIXES)
            or os.path.isfile(os.path.join(folder, os.path.expanduser(cell))))


def read_path_csv(csv_path):
    """The image paths of the original's ``face_data.csv``: first column, one per row.

    The first row is a header (as ``pd.read_csv`` took it) unless its first cell is an
    image path itself (an image suffix, or a file that exists), so a CSV without a
    header loses no image. Relative paths are resolved against the CSV's folder.
    """
    folder = os.path.dirname(os.path.abspath(csv_path))
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            rows = [(n, row[0].strip()) for n, row in enumerate(csv.reader(handle), start=1)
                    if row and row[0].strip()]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{csv_path}: cannot read the CSV ({exc}); give a text CSV whose first "
                        f"column holds image paths") from None
    if rows and not _looks_like_image_path(rows[0][1], folder):
        rows = rows[1:]
    require(rows, f"{csv_path}: lists no images; expected one image path per row in the first column")
    return [os.path.join(folder, os.path.expanduser(cell)) for _, cell in rows]


def list_image_folder(folder):
    """The ``.png``/``.jpg``/``.jpeg``/``.bmp`` files directly in ``folder``, sorted by name."""
    names = sorted(name for name in os.listdir(folder)
                   if name.lower().endswith(IMAGE_SUFFIXES)
                   and os.path.isfile(os.path.join(folder, name)))
    require(names, f"{folder}: holds no {'/'.join(s[1:] for s in IMAGE_SUFFIXES)} images; give a "
                   f"folder of 96x96 colour images or the original's face_data.csv")
    return [os.path.join(folder, name) for name in names]


def list_image_files(path):
    """The image files ``path`` names: a CSV of paths, a folder of images, or one image."""
    require(os.path.exists(path), f"{path}: no such file or folder; give --data a face_data.csv, a "
                                  f"folder of images, or 'cartoon'")
    if os.path.isdir(path):
        return list_image_folder(path)
    if path.lower().endswith(".csv"):
        return read_path_csv(path)
    if path.lower().endswith(IMAGE_SUFFIXES):
        return [path]
    raise UserError(f"{path}: not a CSV, a folder or an image; give --data the original's "
                    f"face_data.csv (image paths in the first column) or a folder of images")


# --- the data set -----------------------------------------------------------------------


def cartoon_faces(spec=CARTOON):
    """``cartoon`` or ``cartoon:N``: N faces drawn by :mod:`genface.cartoon` (seed 0)."""
    from genface import cartoon

    count = DEFAULT_CARTOON_FACES
    if spec != CARTOON:
        text = spec[len(CARTOON) + 1:]
        require(spec.startswith(CARTOON + ":") and text.isdigit() and int(text) > 0,
                f"--data {spec}: expected 'cartoon' or 'cartoon:N' with N a positive number of faces")
        count = int(text)
        resources.require_memory(count * 96 * 96 * 3 * 2, f"--data {spec}: drawing {count} faces",
                                 "ask for fewer faces")
    return cartoon.draw_faces(count, seed=CARTOON_SEED)


def is_cartoon(path):
    return path is None or path == CARTOON or path.startswith(CARTOON + ":")


def _check(decode, path):
    try:
        return decode(path), None
    except BadImage as bad:
        return None, bad


def read_faces(path, image_shape=IMAGE_SHAPE, resize=False, skip_bad=False,
               memory_budget_mb=DEFAULT_MEMORY_BUDGET_MB, workers=None, print_fn=print):
    """The training faces ``path`` names: uint8 ``[N, 96, 96, 3]`` RGB, or :class:`ImageFiles`.

    ``None`` or ``cartoon[:N]`` draws cartoon faces. Otherwise every file is decoded once
    (``workers`` threads; OpenCV decodes without the GIL), and the set is kept in memory
    if it fits ``memory_budget_mb``, else returned as files to stream.
    """
    if is_cartoon(path):
        faces = cartoon_faces(path or CARTOON)
        print_fn(f"drew {len(faces)} cartoon faces (genface.cartoon, seed {CARTOON_SEED}); give "
                 f"--data a face_data.csv or a folder of images to train on your own")
        return faces
    paths = list_image_files(path)
    decode = functools.partial(decode_face, image_shape=tuple(image_shape), resize=resize)
    budget = int(memory_budget_mb * 2 ** 20)
    need = len(paths) * int(np.prod(image_shape))
    in_memory = need <= budget
    if not in_memory:
        print_fn(f"{path}: {len(paths)} images take {need / 2 ** 20:.1f} MiB as uint8, more than "
                 f"the memory budget of {memory_budget_mb:g} MiB; checking them, then streaming "
                 f"them from disk")
    held = np.empty((len(paths), *image_shape), np.uint8) if in_memory else None
    good, bad = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for start in range(0, len(paths), _CHECK_CHUNK):
            chunk = paths[start:start + _CHECK_CHUNK]
            for file, (image, error) in zip(chunk, pool.map(functools.partial(_check, decode), chunk)):
                if error is not None:
                    if not skip_bad:
                        raise error
                    bad.append(error)
                    continue
                if in_memory:
                    held[len(good)] = image
                good.append(file)
    if bad:
        shown = "; ".join(f"{os.path.basename(b.path)} ({b.reason})" for b in bad[:3])
        more = f"; and {len(bad) - 3} more" if len(bad) > 3 else ""
        print_fn(f"{path}: skipped {len(bad)} of {len(paths)} files (--skip-bad): {shown}{more}")
    require(good, f"{path}: none of its {len(paths)} files is a usable {image_shape[1]}x"
                  f"{image_shape[0]} colour image")
    if in_memory:
        return held[:len(good)]
    return ImageFiles(tuple(good), tuple(image_shape), decode)
