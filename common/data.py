"""Training images: reading them from the formats people have, and serving batches.

Readers (``.npz``, the original's CSV, IDX files, ``keras``) each return uint8
``[N, H, W, C]`` (4x less memory than float32) by one pixel-value rule,
:func:`_as_image_batch`, and raise :class:`UserError` naming the file and what is wrong;
the rule and its one ambiguous case (integer 0/1 data) are in docs/command-line.md.

:func:`batches` serves them as a ``tf.data`` pipeline in which batch ``s`` is a pure
function of ``(seed, s)``, so a run resumed at step ``s`` sees exactly the batches an
uninterrupted run would. The order is the original's (quirk Q6: shuffled once at load,
every later epoch replaying it but for its first batch, since ``_next_batch`` lost its
reshuffle) or, with ``reshuffle``, a fresh seeded permutation every epoch. A data set too
large for memory (the faces) is an :class:`ImageFiles`, decoded by the same function an
in-memory load uses, so both give the same batches.
"""

import dataclasses
import gzip
import hashlib
import os
import sys
import zlib
from typing import Callable

import numpy as np
import tensorflow as tf

from common.errors import UserError, require

IDX_IMAGE_NAMES = ("train-images-idx3-ubyte", "train-images.idx3-ubyte")
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


# --- readers ----------------------------------------------------------------------------


def read_images(path, image_shape):
    """Read a data set of images of ``image_shape`` (H, W, C) from ``path``; uint8 [N, H, W, C]."""
    if path == "keras":
        images = _read_keras_mnist()
        source = "keras.datasets.mnist"
    else:
        require(os.path.exists(path), f"{path}: no such file or folder; give --data an existing "
                                      f".npz, .csv, IDX file or folder")
        if os.path.isdir(path):
            path = _find_idx_in_folder(path)
        lower = path.lower()
        if lower.endswith(".npz"):
            images = _read_npz(path)
        elif lower.endswith(".csv") or lower.endswith(".csv.gz"):
            images = _read_csv(path, int(np.prod(image_shape)))
        else:
            images = _read_idx(path)
        source = path
    return _as_image_batch(images, image_shape, source)


def _read_keras_mnist():
    import keras

    try:
        (x_train, _), _ = keras.datasets.mnist.load_data()
    except Exception as exc:  # the download is the only way this fails; say what to do
        raise UserError(
            f"keras.datasets.mnist could not load ({exc.__class__.__name__}: {exc}); put mnist.npz "
            f"in ~/.keras/datasets/ or pass its path to --data") from exc
    return x_train


def _read_npz(path):
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise UserError(f"{path}: not a readable .npz archive ({exc})") from exc
    with archive:
        for key in ("x", "x_train", "images"):
            if key in archive.files:
                try:
                    return archive[key]
                except ValueError as exc:  # object arrays need pickle, which is never allowed
                    raise UserError(f"{path}: array {key!r} cannot be read without pickle ({exc}); "
                                    f"store plain numeric arrays") from exc
                except Exception as exc:  # a damaged member of the zip archive
                    raise UserError(f"{path}: array {key!r} is damaged ({exc.__class__.__name__}: "
                                    f"{exc})") from exc
        raise UserError(f"{path}: no image array; expected a key 'x' (or Keras' 'x_train'), "
                        f"found {sorted(archive.files)}")


def _open_text(path):
    return gzip.open(path, "rt") if path.lower().endswith(".gz") else open(path, "r")


def _read_csv(path, pixels):
    """The original's CSV: one image per row, a label first, then ``pixels`` values 0..255.

    Whole numbers come back as uint8, so they follow the integer rule (0..255, with the
    0..1 warning); a CSV with fractions comes back as float64 and follows the float rule.
    """
    try:
        with _open_text(path) as handle:
            text_lines = handle.readlines()
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise UserError(f"{path}: not a readable text CSV ({exc.__class__.__name__}: {exc}); "
                        f"expected comma-separated numbers, one image per row") from None
    rows = []
    for line_number, line in enumerate(text_lines, start=1):
        line = line.strip()
        if not line:
            continue
        cells = line.split(",")
        require(len(cells) == pixels + 1,
                f"{path}, line {line_number}: {len(cells)} columns, expected {pixels + 1} "
                f"(a label, then {pixels} pixel values)")
        try:
            rows.append(np.asarray(cells[1:], dtype=np.float64))
        except ValueError:
            # Only the first line may be a header: pd.read_csv in the original took it so.
            if line_number == 1 and not rows:
                continue
            bad = next(c for c in cells[1:] if not _is_number(c))
            raise UserError(f"{path}, line {line_number}: non-numeric pixel value {bad!r}; "
                            f"every cell after the label must be a number 0..255") from None
    require(rows, f"{path}: no image rows; expected a label column and {pixels} pixel columns per row")
    values = np.stack(rows)
    require(np.all(np.isfinite(values)), f"{path}: NaN or infinite pixel values; pixels must be 0..255")
    require(values.min() >= 0 and values.max() <= 255,
            f"{path}: pixel values span {values.min():g}..{values.max():g}; expected 0..255 "
            f"(or 0..1 fractions)")
    if np.all(values == np.rint(values)):
        return values.astype(np.uint8)  # whole numbers: integer pixels, the integer rule
    return values  # fractions: the float rule (in [0, 1]: scaled by 255; else rounded)


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _find_idx_in_folder(folder):
    for name in IDX_IMAGE_NAMES:
        for candidate in (name, name + ".gz"):
            if os.path.exists(os.path.join(folder, candidate)):
                return os.path.join(folder, candidate)
    raise UserError(f"{folder}: folder holds no {IDX_IMAGE_NAMES[0]}[.gz]; give the image file itself "
                    f"or a folder with the MNIST IDX files")


def _read_idx(path):
    """An IDX file (LeCun's MNIST format), raw or gzip-compressed."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise UserError(f"{path}: cannot read ({exc.__class__.__name__}: {exc})") from exc
    require(len(data) >= 4 and data[0] == 0 and data[1] == 0 and data[2] in IDX_TYPES,
            f"{path}: not an IDX file (bad magic number); expected MNIST's train-images-idx3-ubyte, "
            f"a .npz or a .csv")
    ndim = data[3]
    require(ndim in (3, 4), f"{path}: IDX file of {ndim} dimensions holds no images; "
                            f"is it a label file? give the images file")
    header = 4 + 4 * ndim
    require(len(data) >= header, f"{path}: truncated IDX header")
    dims = tuple(int.from_bytes(data[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(IDX_TYPES[data[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    require(len(data) - header == expected,
            f"{path}: IDX header promises {dims} values ({expected} bytes) but the file holds "
            f"{len(data) - header}; the file is truncated or corrupt")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)


def warn(message):
    """A one-line warning on stderr: data that was read, but maybe not as its author meant."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def _as_image_batch(images, image_shape, source):
    """Check a read array against the model's image shape; uint8 [N, H, W, C].

    Pixel values follow the module's rule: integers are 0..255, floats in [0, 1] are
    scaled by 255, other floats must lie in 0..255; complex, boolean and non-numeric
    arrays are refused.
    """
    images = np.asarray(images)
    kind = images.dtype.kind
    if kind == "c":
        largest = float(np.max(np.abs(images.imag))) if images.size else 0.0
        fix = ("its imaginary parts are all 0, so store x.real" if largest == 0 else
               f"its largest imaginary part is {largest:g}; store x.real to drop them, or "
               f"np.abs(x) for magnitudes")
        raise UserError(f"{source}: complex-valued pixels ({images.dtype}); images must hold real "
                        f"numbers, the imaginary part would be lost: {fix}")
    if kind == "b":
        raise UserError(f"{source}: boolean pixels (True/False) have no brightness scale; store "
                        f"x.astype('uint8') * 255 for black and white, or x.astype('float32') for "
                        f"0/1 values")
    require(kind in "iuf", f"{source}: non-numeric images ({images.dtype}); expected integer "
                           f"pixel values 0..255 or floats in [0, 1]")
    height, width, channels = image_shape
    if images.ndim == 2 and images.shape[1] == height * width * channels:
        images = images.reshape(-1, height, width, channels)
    if images.ndim == 3 and channels == 1:
        images = images[..., None]
    require(images.ndim == 4 and images.shape[1:] == tuple(image_shape),
            f"{source}: images of shape {images.shape[1:]}, this model needs "
            f"{height}x{width}x{channels}")
    require(len(images) > 0, f"{source}: the data set is empty")
    if kind == "f":
        images = _float_pixels(images, source)
    else:
        low, high = int(images.min()), int(images.max())
        require(low >= 0 and high <= 255, f"{source}: integer pixel values span {low}..{high}; "
                                          f"expected 0..255 (or floats in [0, 1])")
        if high == 1:  # (all 0 reads the same either way)
            warn(f"{source}: integer pixel values all lie in 0..1 (a 0/1 mask?); read as 0..255, "
                 f"so 1 is nearly black. If 1 means white, convert the array to float "
                 f"(x.astype('float32')) or multiply it by 255")
        images = images.astype(np.uint8, copy=False)
    return np.ascontiguousarray(images)


def _float_pixels(images, source):
    """Float pixels to uint8: [0, 1] scaled by 255 (as the original fed its models), else 0..255."""
    require(np.all(np.isfinite(images)), f"{source}: NaN or infinite pixel values")
    low, high = float(images.min()), float(images.max())
    if low >= 0.0 and high <= 1.0:
        if images.dtype.itemsize < 4:  # float16 would round x * 255 to its 11 bits
            images = images.astype(np.float32)
        return np.rint(images * 255.0).astype(np.uint8)  # already in [0, 1]
    unit = high <= 2.0  # 0..1 values that overshoot, more likely than 0..255 ones this dark
    require(low >= 0 and high <= 255,
            f"{source}: pixel values span {low:g}..{high:g}; expected floats in [0, 1] or 0..255"
            + (" (if these are 0..1 values that overshoot, clip them: np.clip(x, 0, 1))" if unit
               else ""))
    if unit:
        warn(f"{source}: float pixel values span {low:g}..{high:g}, above 1, so they were read as "
             f"0..255 and the images are nearly black. If they are 0..1 values that overshoot, "
             f"clip them to [0, 1] (np.clip(x, 0, 1))")
    return np.rint(images).astype(np.uint8)


# --- batches ----------------------------------------------------------------------------


def epoch_permutation(count, seed, epoch):
    """The order of the ``count`` images in ``epoch``: a pure function of (seed, epoch)."""
    return tf.random.experimental.stateless_shuffle(
        tf.range(count, dtype=tf.int64), seed=tf.stack([tf.cast(seed, tf.int64), epoch]))


def batch_indices(step, count, batch_size, seed, reshuffle=True):
    """Indices of the images in batch ``step`` (the incomplete tail of an epoch is skipped).

    ``reshuffle=False`` is the original's order (Q6): epoch 0's permutation (the shuffle
    its scripts made at load), replayed by every later epoch except for its first batch,
    which ``_next_batch`` took from a shuffled copy of that order: here the head of the
    epoch's own permutation applied to it.
    """
    batches_per_epoch = count // batch_size
    epoch = step // batches_per_epoch
    offset = (step % batches_per_epoch) * batch_size
    if reshuffle:
        return epoch_permutation(count, seed, epoch)[offset:offset + batch_size]
    loaded = epoch_permutation(count, seed, 0)
    if epoch > 0 and offset == 0:
        return tf.gather(loaded, epoch_permutation(count, seed, epoch)[:batch_size])
    return loaded[offset:offset + batch_size]


def to_unit_range(images):
    """uint8 images to float32 in [0, 1], as the original's ``/ 255.``."""
    return tf.cast(images, tf.float32) / 255.0


@dataclasses.dataclass(frozen=True)
class ImageFiles:
    """A data set left on disk: image files decoded when their batch comes up.

    ``decode(path)`` returns one uint8 ``[H, W, C]`` image of ``image_shape``; it must be
    the function that loading the same files into memory uses, so that the streamed
    batches equal the in-memory ones byte for byte. The files are expected to have been
    checked already (see :func:`genface.data.read_faces`): a decode failure here stops
    training.
    """

    paths: tuple
    image_shape: tuple
    decode: Callable

    def __len__(self):
        return len(self.paths)

    @property
    def nbytes(self):
        return len(self.paths) * int(np.prod(self.image_shape))


def fingerprint(images):
    """``{"images": N, "sha256": ...}`` of a training set, recorded by a new run so that a later
    ``--resume`` notices data that changed under it: the pixels of an in-memory set, the
    names and sizes of files left on disk."""
    digest = hashlib.sha256()
    if isinstance(images, ImageFiles):
        for path in images.paths:
            digest.update(f"{os.path.basename(path)}\0{os.path.getsize(path)}\n".encode())
    else:
        digest.update(np.ascontiguousarray(images).data)
    return {"images": len(images), "sha256": digest.hexdigest()[:16]}


def index_batches(count, batch_size, seed, start_step=0, steps=None, reshuffle=True):
    """A ``tf.data`` stream of the index vectors of batches ``start_step``, ``start_step + 1``, ...

    Batch ``s`` holds :func:`batch_indices` ``(s, ...)``, but each epoch's permutation is
    drawn once and cut into its batches, not drawn again for every batch: a shuffle of
    the whole data set per batch was the stream's only per-step work that grew with the
    data set (60,000 images: 60,000 indices shuffled to serve 128).
    """
    per_epoch = count // batch_size
    first_epoch = start_step // per_epoch
    loaded = None if reshuffle else epoch_permutation(count, seed, 0)

    def epoch_batches(epoch):
        order = epoch_permutation(count, seed, epoch)[:per_epoch * batch_size]
        if loaded is not None:  # Q6: epoch 0's order, but for this epoch's first batch
            head = tf.gather(loaded, order[:batch_size])
            order = tf.where(epoch > 0, tf.concat([head, loaded[batch_size:per_epoch * batch_size]], 0),
                             loaded[:per_epoch * batch_size])
        return tf.data.Dataset.from_tensor_slices(tf.reshape(order, [per_epoch, batch_size]))

    stream = (tf.data.Dataset.counter(first_epoch)
              .flat_map(epoch_batches)
              .skip(start_step - first_epoch * per_epoch))
    return stream if steps is None else stream.take(steps)


def without_autotuning(dataset):
    """``dataset`` and every pipeline built on it, without ``tf.data``'s autotuning thread.

    That thread sleeps between its rounds for a period that doubles up to a minute, and
    an iterator's teardown waits for it to wake: at the end of every ``fit`` a run sat
    idle for up to a minute (docs/speed.md, "Start-up and the first iterations"). Without
    it ``AUTOTUNE`` still means one parallel call per core, all that a gather or a decode
    per batch needs.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def batches(images, batch_size, seed, start_step=0, steps=None, reshuffle=True):
    """A ``tf.data`` pipeline of float32 batches in [0, 1], starting at batch ``start_step``.

    ``images`` is uint8 ``[N, H, W, C]``, or an :class:`ImageFiles` whose images are
    decoded in parallel as the batches need them. Batch ``s`` depends only on ``seed``
    and ``s``, so the stream can be resumed anywhere. ``steps`` of None means an endless
    stream; ``reshuffle=False``, the original's replayed order (see :func:`batch_indices`).
    """
    count = len(images)
    require(batch_size <= count, f"batch size {batch_size} is larger than the data set "
                                 f"({count} images); lower --batch-size")
    indices = without_autotuning(index_batches(count, batch_size, seed, start_step, steps, reshuffle))
    if isinstance(images, ImageFiles):
        return _file_batches(images, indices, batch_size)
    table = tf.constant(images)
    return (indices
            .map(lambda index: to_unit_range(tf.gather(table, index)),
                 num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE))


def _file_batches(files, indices, batch_size):
    """Batches of :func:`batches` for files: the same indices, each image decoded on demand.

    The indices of each batch are spread into single images so that ``tf.data`` decodes
    them in parallel (``deterministic=True`` keeps their order), then regrouped: each
    step contributes exactly ``batch_size`` indices, so ``batch`` rebuilds step ``s``.
    """

    def load(index):
        return files.decode(files.paths[int(index)])

    def decode(index):
        image = tf.numpy_function(load, [index], tf.uint8, stateful=False)
        return tf.ensure_shape(image, files.image_shape)

    return (indices
            .unbatch()
            .map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .batch(batch_size)
            .map(to_unit_range)
            .prefetch(tf.data.AUTOTUNE))
