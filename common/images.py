"""Turning generator outputs into pictures: byte scaling, grids, resizing.

Replaces the original's ``layer.save_images`` (built on the removed ``scipy.misc.imsave``)
and ``scipy.misc.imresize``. Everything here takes images as ``[N, H, W, C]`` arrays in
RGB order with values in [0, 1] and makes the scaling explicit (quirk Q9): the old
``imsave`` silently stretched each grid's own min..max to 0..255, which is offered here
as ``scaling="minmax"`` for anyone matching old pictures.

Limits (each refused with a :class:`~common.errors.UserError` naming the value and the
allowed range, before any work where the caller asks first):

* :data:`MAX_SIDE` (8192 pixels): the largest side :func:`resize` makes from a scale
  factor; :func:`check_scale_factor` checks a factor against an image shape (a factor
  giving a side under 1 pixel is refused as well).
* :data:`MAX_PICTURE_PIXELS` (89,478,485 pixels, about 9459x9459): the largest picture
  :func:`save_image` writes, which is PIL's own decompression-bomb threshold, so every
  grid written here opens in PIL-based tools without a warning; :func:`check_grid_size`
  says up front whether a grid of N images fits (if not: write an ``.npz``).
* :func:`check_image_path`: the path of a picture must be a writable file path with an
  image suffix, not a folder nor a path under a file. :func:`save_image` checks it, and
  on any failure removes its ``.partial`` file.
"""

import numbers
import os

import numpy as np
from PIL import Image

from common.errors import UserError, require
from common.files import replace_atomically

MAX_SIDE = 8192
# PIL's default Image.MAX_IMAGE_PIXELS (fixed here: a program may change PIL's at run time).
MAX_PICTURE_PIXELS = 89_478_485


def to_uint8(images, scaling="clip"):
    """Map float images in [0, 1] to uint8 [0, 255].

    ``"clip"``: round(x * 255) after clipping to [0, 1]; what the original's prediction
    code did (``np.clip(x * 255, 0, 255)``, which truncated where this rounds).
    ``"minmax"``: stretch the array's own min..max to 0..255, as ``scipy.misc.imsave``
    (through ``bytescale``) did to the original's sample grids.
    """
    images = np.asarray(images, dtype=np.float32)
    if not np.all(np.isfinite(images)):
        raise ValueError("images contain NaN or infinite values; the generator has diverged")
    if scaling == "clip":
        scaled = np.clip(images, 0.0, 1.0) * 255.0
    elif scaling == "minmax":
        low, high = float(images.min()), float(images.max())
        scaled = (images - low) * (255.0 / (high - low)) if high > low else np.zeros_like(images)
    else:
        raise ValueError(f"unknown scaling {scaling!r}: expected 'clip' or 'minmax'")
    return np.rint(scaled).astype(np.uint8)


def grid_shape(count):
    """Rows and columns of the most square grid with room for ``count`` images."""
    cols = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / cols))
    return rows, cols


def grid_layout(count, rows=None, cols=None):
    """``(rows, cols)`` of :func:`make_grid`'s grid of ``count`` images; either may be given."""
    if rows is None and cols is None:
        rows, cols = grid_shape(count)
    elif rows is None:
        rows = int(np.ceil(count / cols))
    elif cols is None:
        cols = int(np.ceil(count / rows))
    if count > rows * cols:
        raise ValueError(f"{count} images do not fit a {rows}x{cols} grid")
    return rows, cols


def check_grid_size(count, image_shape, rows=None, cols=None):
    """``(height, width)`` in pixels of the grid of ``count`` images of ``image_shape``.

    ``image_shape`` is one image's ``(H, W)`` or ``(H, W, C)``, after any resizing (see
    :func:`check_scale_factor`). Raises :class:`UserError` if the grid would have more than
    :data:`MAX_PICTURE_PIXELS` pixels, suggesting an ``.npz`` output or a smaller count:
    call it before generating the images.
    """
    require(isinstance(count, numbers.Integral) and count >= 1,
            f"a grid needs at least 1 image, got {count!r}")
    height, width = (int(d) for d in tuple(image_shape)[:2])
    rows, cols = grid_layout(int(count), rows, cols)
    grid_height, grid_width = rows * height, cols * width
    if grid_height * grid_width <= MAX_PICTURE_PIXELS:
        return grid_height, grid_width
    fits = _largest_grid_count(height, width)
    advice = f", or make at most {fits} images per grid" if fits else ""
    raise UserError(
        f"a grid of {count} images of {width}x{height} pixels would be {grid_width}x{grid_height} "
        f"pixels ({grid_width * grid_height / 1e6:.1f} million), more than the "
        f"{MAX_PICTURE_PIXELS / 1e6:.1f} million a picture may have; write the images to an .npz "
        f"instead (--out FILE.npz){advice}")


def _largest_grid_count(height, width):
    """The most images of ``height`` x ``width`` whose square-ish grid fits the pixel cap."""
    count = MAX_PICTURE_PIXELS // (height * width)
    while count > 0:
        rows, cols = grid_shape(count)
        if rows * cols * height * width <= MAX_PICTURE_PIXELS:
            return count
        count -= 1
    return 0


def make_grid(images, rows=None, cols=None, pad=0):
    """Tile ``[N, H, W, C]`` images, image k at row k // cols, column k % cols.

    The layout of the original's ``save_images``. Grayscale images stay one channel
    here and are written as grayscale; the original broadcast them into an RGB canvas,
    which looks the same.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"expected images of shape [N, H, W, C], got {images.shape}")
    count, height, width, channels = images.shape
    rows, cols = grid_layout(count, rows, cols)
    canvas = np.zeros(
        (rows * (height + pad) - pad, cols * (width + pad) - pad, channels), dtype=images.dtype)
    for k, image in enumerate(images):
        top, left = (k // cols) * (height + pad), (k % cols) * (width + pad)
        canvas[top:top + height, left:left + width] = image
    return canvas


def check_image_path(path):
    """Refuse, with a :class:`UserError` naming ``path``, a picture path that cannot be written.

    Refused: a path that is an existing folder or ends in a separator, one that lies under
    a file, one whose nearest existing folder is not writable, and a suffix PIL cannot
    write (no suffix means PNG). Missing folders are fine: :func:`save_image` makes them.
    """
    path = os.fspath(path)
    require(path and os.path.basename(path), f"{path!r}: names a folder, not a file; give a "
                                             f"picture path such as {os.path.join(path or '.', 'grid.png')}")
    require(not os.path.isdir(path),
            f"{path}: is an existing folder; give a picture path inside it, such as "
            f"{os.path.join(path, 'grid.png')}")
    suffix = os.path.splitext(path)[1].lower()
    Image.init()
    require(not suffix or Image.registered_extensions().get(suffix) in Image.SAVE,
            f"{path}: {suffix!r} is not an image format that can be written; use .png (or .jpg, .bmp)")
    ancestor = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    require(os.path.isdir(ancestor),
            f"{path}: {ancestor} is a file, not a folder, so nothing can be written under it; "
            f"choose another path")
    require(os.access(ancestor, os.W_OK | os.X_OK),
            f"{path}: cannot write in {ancestor} (permission denied); choose a writable folder")
    return path


def save_image(image, path):
    """Write one uint8 ``[H, W, C]`` RGB (or grayscale) array; the format follows the suffix.

    The picture is written beside the target and renamed, so a crash never leaves half a
    picture; on any failure the partial file is removed. A bad path (see
    :func:`check_image_path`), a picture over :data:`MAX_PICTURE_PIXELS` and a failed
    write (a full disk, a read-only file system) raise :class:`UserError`.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"save_image expects uint8, got {image.dtype}; scale with to_uint8 first")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    path = check_image_path(path)
    height, width = image.shape[:2]
    require(height * width <= MAX_PICTURE_PIXELS,
            f"{path}: a {width}x{height} picture ({width * height / 1e6:.1f} million pixels) is more "
            f"than the {MAX_PICTURE_PIXELS / 1e6:.1f} million a picture may have; write the images "
            f"to an .npz instead, or fewer or smaller images")
    return _write_beside(path, Image.fromarray(image).save, "picture", ".png")


def _write_beside(path, save, what, default_suffix):
    """``save(partial)`` beside ``path``, then rename: never half a file; a failed write is a UserError."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # The partial keeps the suffix: PIL chooses the format by it.
        return replace_atomically(path, save, suffix=f".partial{os.path.splitext(path)[1] or default_suffix}")
    except OSError as exc:
        raise UserError(f"{path}: cannot write the {what} ({exc.strerror or exc}); choose a "
                        f"writable file path") from exc


def save_animation(frames, path, frame_ms=120):
    """Write uint8 ``[H, W, C]`` frames as a looping animated GIF, atomically as :func:`save_image`."""
    path = check_image_path(path)
    pictures = [Image.fromarray(f[..., 0] if f.ndim == 3 and f.shape[-1] == 1 else f) for f in frames]

    def save(partial):
        pictures[0].save(partial, save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)

    return _write_beside(path, save, "animation", ".gif")


def save_grid(images, path, rows=None, cols=None, scaling="clip"):
    """The ``save_images`` replacement: float images in [0, 1] to one grid picture."""
    images = np.asarray(images)
    if images.ndim == 4:  # refuse an oversized grid before building it
        check_grid_size(len(images), images.shape[1:3], rows, cols)
    return save_image(make_grid(to_uint8(images, scaling), rows, cols), path)


def check_scale_factor(shape, factor):
    """The shape ``resize`` makes of images of ``shape`` with ``factor``, or :class:`UserError`.

    ``shape`` is one image's ``(H, W)`` or ``(H, W, C)``; the result has the same form,
    each side ``round(side * factor)``. The factor must be a finite number that gives
    sides of 1 to :data:`MAX_SIDE` pixels, i.e. lie in ``1 / min(H, W)`` ..
    ``MAX_SIDE / max(H, W)`` (0.01042..85.33 for 96x96 faces). Call it before generating.
    """
    shape = tuple(int(d) for d in shape)
    height, width = shape[:2]
    low, high = 1.0 / min(height, width), MAX_SIDE / max(height, width)
    allowed = (f"for {width}x{height} images the factor must lie in {_rounded(low, up=True):g}.."
               f"{_rounded(high, up=False):g} (sides of 1..{MAX_SIDE} pixels)")
    require(isinstance(factor, numbers.Real) and not isinstance(factor, bool) and np.isfinite(factor)
            and factor > 0, f"scale factor {factor!r}: expected a positive finite number; {allowed}")
    # A relative tolerance so that the bounds themselves, as printed and typed, pass.
    sides = (int(round(height * factor)), int(round(width * factor)))
    require(low * (1 - 1e-6) <= factor <= high * (1 + 1e-6) and 1 <= min(sides) and max(sides) <= MAX_SIDE,
            f"scale factor {factor:g}: {width}x{height} images would become {sides[1]}x{sides[0]} "
            f"pixels; {allowed}")
    return sides + shape[2:]


def _rounded(value, up, digits=4):
    """``value`` to ``digits`` significant digits, rounded up or down (bounds stay inside)."""
    scale = 10.0 ** (digits - 1 - int(np.floor(np.log10(value))))
    return float((np.ceil if up else np.floor)(value * scale) / scale)


def resize(images, scale_factor=None, size=None, resample="bilinear"):
    """Resize uint8 ``[N, H, W, C]`` images with PIL: the ``scipy.misc.imresize`` replacement.

    ``imresize`` defaulted to bilinear interpolation, and so does this. Give either a
    ``scale_factor`` (a number, checked by :func:`check_scale_factor`) or a target ``size``
    as (height, width).
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"resize expects uint8 [N, H, W, C] images, got {images.dtype} {images.shape}")
    height, width = images.shape[1:3]
    if size is None:
        if scale_factor is None:
            raise ValueError("resize needs a scale_factor or a size")
        size = check_scale_factor((height, width), scale_factor)
    filters = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR,
               "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
    if resample not in filters:
        raise ValueError(f"unknown resample {resample!r}: expected one of {sorted(filters)}")
    out = []
    for image in images:
        squeeze = image.shape[-1] == 1
        pil = Image.fromarray(image[..., 0] if squeeze else image)
        resized = np.asarray(pil.resize((size[1], size[0]), filters[resample]))
        out.append(resized[..., None] if squeeze else resized)
    return np.stack(out)
