"""Turning generator outputs into pictures: byte scaling, grids, resizing.

Replaces the original's ``layer.save_images`` (built on the removed ``scipy.misc.imsave``)
and ``scipy.misc.imresize``. Everything here takes images as ``[N, H, W, C]`` arrays in
RGB order with values in [0, 1] and makes the scaling explicit (quirk Q9): the old
``imsave`` silently stretched each grid's own min..max to 0..255, which is offered here
as ``scaling="minmax"`` for anyone matching old pictures.
"""

import os

import numpy as np
from PIL import Image


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
    if rows is None and cols is None:
        rows, cols = grid_shape(count)
    elif rows is None:
        rows = int(np.ceil(count / cols))
    elif cols is None:
        cols = int(np.ceil(count / rows))
    if count > rows * cols:
        raise ValueError(f"{count} images do not fit a {rows}x{cols} grid")
    canvas = np.zeros(
        (rows * (height + pad) - pad, cols * (width + pad) - pad, channels), dtype=images.dtype)
    for k, image in enumerate(images):
        top, left = (k // cols) * (height + pad), (k % cols) * (width + pad)
        canvas[top:top + height, left:left + width] = image
    return canvas


def save_image(image, path):
    """Write one uint8 ``[H, W, C]`` RGB (or grayscale) array; the format follows the suffix."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"save_image expects uint8, got {image.dtype}; scale with to_uint8 first")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # Write beside the target and rename, so a crash never leaves half a picture.
    suffix = os.path.splitext(path)[1] or ".png"
    partial = f"{path}.partial{suffix}"
    Image.fromarray(image).save(partial)
    os.replace(partial, path)
    return path


def save_grid(images, path, rows=None, cols=None, scaling="clip"):
    """The ``save_images`` replacement: float images in [0, 1] to one grid picture."""
    return save_image(make_grid(to_uint8(images, scaling), rows, cols), path)


def resize(images, scale_factor=None, size=None, resample="bilinear"):
    """Resize uint8 ``[N, H, W, C]`` images with PIL: the ``scipy.misc.imresize`` replacement.

    ``imresize`` defaulted to bilinear interpolation, and so does this. Give either a
    ``scale_factor`` (a number) or a target ``size`` as (height, width).
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"resize expects uint8 [N, H, W, C] images, got {images.dtype} {images.shape}")
    height, width = images.shape[1:3]
    if size is None:
        if scale_factor is None or scale_factor <= 0:
            raise ValueError(f"scale factor must be a positive number, got {scale_factor!r}")
        size = (int(round(height * scale_factor)), int(round(width * scale_factor)))
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
