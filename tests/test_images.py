"""The image writer replaces save_images/imsave with explicit scaling and true colours."""

import numpy as np
import pytest
from PIL import Image

from common import images
from common.callbacks import display_iterations, is_display_iteration


def test_clip_scaling_maps_unit_range_to_bytes_and_clips_outside():
    out = images.to_uint8(np.array([-0.5, 0.0, 0.5, 1.0, 2.0]))
    np.testing.assert_array_equal(out, [0, 0, 128, 255, 255])


def test_minmax_scaling_reproduces_imsaves_bytescale():
    out = images.to_uint8(np.array([-0.5, 0.0, 1.5]), scaling="minmax")
    np.testing.assert_array_equal(out, [0, 64, 255])  # its own min..max stretched to 0..255


def test_non_finite_images_are_refused():
    with pytest.raises(ValueError, match="NaN"):
        images.to_uint8(np.array([np.nan]))


def test_grid_puts_image_k_at_row_k_div_cols_column_k_mod_cols():
    tiles = np.arange(6, dtype=np.uint8).reshape(6, 1, 1, 1) * np.ones((6, 2, 3, 1), np.uint8)
    grid = images.make_grid(tiles, rows=2, cols=3)
    assert grid.shape == (4, 9, 1)
    for k in range(6):
        row, col = divmod(k, 3)
        assert np.all(grid[row * 2:(row + 1) * 2, col * 3:(col + 1) * 3] == k)


def test_saved_grid_keeps_rgb_order(tmp_path):
    red = np.zeros((4, 5, 5, 3), np.float32)
    red[..., 0] = 1.0
    path = images.save_grid(red, str(tmp_path / "g.png"), rows=2, cols=2)
    pixels = np.asarray(Image.open(path))
    assert pixels.shape == (10, 10, 3)
    assert np.all(pixels[..., 0] == 255) and not np.any(pixels[..., 1:])


def test_grayscale_grid_is_written_as_grayscale(tmp_path):
    path = images.save_grid(np.full((64, 28, 28, 1), 0.5), str(tmp_path / "d.png"), rows=8, cols=8)
    picture = Image.open(path)
    assert picture.mode == "L" and picture.size == (224, 224)


def _bilinear(images, height, width):
    """Half-pixel-centred bilinear resampling in NumPy, edges clamped, each pass rounded to
    uint8 as PIL (and so scipy.misc.imresize, which called it) does: horizontal, vertical."""

    def taps(n_in, n_out):
        source = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(source).astype(int)
        return low, np.minimum(low + 1, n_in - 1), source - low

    x = images.astype(np.float64)
    lo, hi, w = taps(x.shape[2], width)
    x = np.floor(x[:, :, lo] * (1 - w)[:, None] + x[:, :, hi] * w[:, None] + 0.5)
    lo, hi, w = taps(x.shape[1], height)
    return np.floor(x[:, lo] * (1 - w)[:, None, None] + x[:, hi] * w[:, None, None] + 0.5)


def test_resize_is_bilinear_like_imresize():
    image = np.zeros((1, 2, 2, 1), np.uint8)
    image[0, :, 1] = 200
    # By hand: output pixel centres 0.25, 0.75, 1.25, 1.75 fall at -0.25, 0.25, 0.75, 1.25
    # of the input's pixel grid: 0 (clamped), 0.75 * 0 + 0.25 * 200, 150, 200 (clamped).
    out = images.resize(image, scale_factor=2)
    np.testing.assert_array_equal(out[0, :, :, 0], [[0, 50, 150, 200]] * 4)
    pictures = np.random.default_rng(0).integers(0, 256, (3, 9, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(images.resize(pictures, scale_factor=2), _bilinear(pictures, 18, 14))
    # At 1.5 PIL's fixed-point weights round a few values the other way.
    off = np.abs(images.resize(pictures, scale_factor=1.5).astype(int) - _bilinear(pictures, 14, 10))
    assert off.max() <= 1 and np.mean(off > 0) < 0.05
    with pytest.raises(ValueError, match="positive"):
        images.resize(image, scale_factor=0)


def test_display_schedule_is_the_originals():
    assert display_iterations(10000)[:12] == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200]
    assert display_iterations(10000)[-3:] == [8000, 9000, 9999]
    shown = display_iterations(25000)
    assert 1000 in shown and 1100 not in shown and 10000 in shown and 11000 not in shown
    assert 20000 in shown and shown[-1] == 24999
    assert is_display_iteration(0, 1) and not is_display_iteration(-1, 10)


def _original_schedule(total):
    """The original's loop, transcribed as behaviour: what it displayed."""
    shown, every = [], 10
    for i in range(total):
        if i % every == 0 or i + 1 == total:
            shown.append(i)
            if i % (every * 10) == 0 and i:
                every *= 10
    return shown


@pytest.mark.parametrize("total", [1, 9, 101, 1000, 1001, 12345])
def test_display_schedule_matches_the_original_loop(total):
    assert display_iterations(total) == _original_schedule(total)
