"""``generate``: images from a trained run (the original's ``prediction()``), as a grid, an
``.npz`` of arrays, or an animated interpolation; the vectors it draws are
:mod:`common.latents`'."""

import argparse
import os
import sys

import numpy as np

from common import resources
from common.arguments import (Command, add_checkpoint_argument, add_ema_argument, models_with_batch_norm,
                              positive_float, positive_int, seed_int)
from common.errors import UserError, require
from common.latents import MIN_TRUNCATION, load_latents, sample_latents, sample_truncated_latents, slerp


def interpolation_count(text):
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected at least 2 images per row (the two ends), got {value}")
    return value


def truncation_float(text):
    value = positive_float(text)
    if value < MIN_TRUNCATION:
        raise argparse.ArgumentTypeError(f"expected a number of standard deviations of at least "
                                         f"{MIN_TRUNCATION}, got {text}")
    return value


def _add_generate_arguments(parser, family):
    batch_norm = models_with_batch_norm(family)
    together = (f". With batch statistics (legacy {batch_norm}) every image of the grid is normalised with "
                f"all the others, so an end image differs from generate --z of its vector alone: pass "
                f"--batch-statistics no to compare them") if batch_norm else ""
    parser.add_argument("--run", required=True, help="a run folder written by train")
    add_checkpoint_argument(parser, family, default="auto")
    add_ema_argument(parser)
    parser.add_argument("-n", type=positive_int, default=None,
                        help="how many images (default 64, or as many as --z holds); with "
                             "--interpolate: how many rows (default 8, or half as many as --z holds)")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed of the latent vectors (default 0)")
    parser.add_argument("--z", default=None,
                        help="a .npy file of latent vectors [N, z_dim] to use instead of sampling; "
                             "with --interpolate, the ends of each row in pairs: rows 0-1, 2-3, ...")
    parser.add_argument("--interpolate", type=interpolation_count, default=None, metavar="K",
                        help="rows of K images each along a spherical interpolation (slerp) between "
                             "two latent vectors, the first and last images being those of the two "
                             "vectors themselves; a .gif --out shows the rows moving along it" + together)
    parser.add_argument("--truncation", type=truncation_float, default=None, metavar="PSI",
                        help="the truncation trick: every component of z beyond PSI standard "
                             f"deviations is redrawn (from the same seeded stream) until it lies "
                             f"within; smaller PSI: less variety, more typical images. At least "
                             f"{MIN_TRUNCATION}; default: none. Not with --z")
    parser.add_argument("--batch-statistics", choices=("auto", "yes", "no"), default="auto",
                        help="normalise batch norm by the statistics of the whole z batch (yes), or "
                             "by the moving statistics (no); auto: yes in legacy fidelity, as the "
                             "original's prediction ran, no in fixed. With yes, all N vectors form "
                             "one batch: fewer than 16 give poor statistics, and one gives the same "
                             "image for every seed")
    if family.generate_scale:
        parser.add_argument("--scale-factor", type=positive_float, default=None,
                            help="upscale the generated images by this factor with bilinear "
                                 "interpolation (the original's imresize step)")
    parser.add_argument("--out", required=True,
                        help="a .png path writes a grid; a .npz path writes 'images' (uint8 "
                             "[N, H, W, C]), 'raw' (float32 generator outputs) and 'z'; with "
                             "--interpolate a .gif path writes an animation along the rows")


# A .gif --out: frames per row, forward and back, 120 ms each (4 minutes at this bound).
# PIL merges identical frames and adds their times, which must fit the GIF's 16-bit field.
MAX_ANIMATION_STEPS = 1000
# A batch too small for its own statistics: below this, generate with batch statistics warns.
MIN_STATISTICS_BATCH = 16
GENERATE_CHUNK = 500


def generation_bytes(model, count):
    """A generous estimate of the memory one generator pass over ``count`` vectors takes."""
    per_sample = sum(int(np.prod(layer.output.shape[1:])) for layer in model.generator.layers)
    return 4 * per_sample * count * 2  # float32 activations, plus what TensorFlow keeps beside them


def generate_outputs(model, z, batch_statistics, prog):
    """The generator's raw outputs for ``z``, in bounded memory wherever the batch allows."""
    uses_batch_statistics = model.recipe.batch_norm and (
        model.fidelity == "legacy" if batch_statistics is None else batch_statistics)
    if not uses_batch_statistics:
        return np.concatenate([np.asarray(model.generator_outputs(z[k:k + GENERATE_CHUNK], batch_statistics))
                               for k in range(0, len(z), GENERATE_CHUNK)])
    if len(z) < MIN_STATISTICS_BATCH:
        print(f"{prog}: warning: batch norm normalises these {len(z)} vector(s) by their own statistics "
              f"(as the original's prediction did); fewer than {MIN_STATISTICS_BATCH} give poor "
              f"statistics, and 1 gives the same image for every seed. Generate {MIN_STATISTICS_BATCH} "
              f"or more at once (-n 64) and keep the ones you need, or export the generator "
              f"(population statistics)", file=sys.stderr)
    resources.require_memory(
        generation_bytes(model, len(z)),
        f"-n {len(z)} with batch statistics normalises all {len(z)} vectors as one batch, which",
        "generate fewer per call (different --seed values), or pass --batch-statistics no")
    return np.asarray(model.generator_outputs(z, batch_statistics))


def _generation_latents(args, z_dim):
    """``(z, rows, cols)``: the vectors to generate, and the grid they form (None: square-ish)."""
    if args.interpolate is None:
        if args.z:
            z = load_latents(args.z, z_dim)
            require(args.n is None or args.n == len(z),
                    f"-n {args.n} contradicts --z {args.z}, which holds {len(z)} vectors; drop -n")
        elif args.truncation:
            z = sample_truncated_latents(args.n or 64, z_dim, args.seed, args.truncation)
        else:
            z = sample_latents(args.n or 64, z_dim, args.seed)
        return z, None, None
    if args.z:
        ends = load_latents(args.z, z_dim)
        require(len(ends) % 2 == 0, f"--z {args.z} holds {len(ends)} vectors; --interpolate takes them "
                                    f"in pairs (the two ends of each row), so give an even number")
        require(args.n is None or 2 * args.n == len(ends),
                f"-n {args.n} rows contradicts --z {args.z}, which holds {len(ends)} vectors "
                f"({len(ends) // 2} pairs); drop -n")
    else:
        count = 2 * (args.n or 8)
        ends = (sample_truncated_latents(count, z_dim, args.seed, args.truncation) if args.truncation
                else sample_latents(count, z_dim, args.seed))
    path = slerp(ends[0::2], ends[1::2], args.interpolate)
    return path.reshape(-1, z_dim), len(path), args.interpolate


def _run_generate(args, family):
    from common import images as image_io
    from common.run import load_run_model

    suffix = os.path.splitext(args.out)[1].lower()
    pictures_suffixes = (".png", ".jpg", ".bmp") + ((".gif",) if args.interpolate else ())
    require(suffix in pictures_suffixes + (".npz",),
            f"--out {args.out}: expected a .png (grid) or .npz (arrays) path"
            + ("; a .gif animates an interpolation (--interpolate K)" if suffix == ".gif" else ""))
    require(not (args.z and args.truncation),
            "--truncation redraws the sampled vectors; the vectors of --z are used as given: drop one")
    _, model = load_run_model(args.run, family, args.checkpoint, averaged=not args.no_ema)
    z_dim = model.recipe.z_dim
    if not args.z:  # the vectors to draw, before drawing them
        count = 2 * (args.n or 8) + (args.n or 8) * args.interpolate if args.interpolate else args.n or 64
        resources.require_memory(count * (12 * z_dim + 5 * int(np.prod(model.recipe.image_shape))),
                                 f"generating {count} images", "generate fewer per call (a smaller -n"
                                 + (" or --interpolate K" if args.interpolate else "") + ")")
    z, rows, cols = _generation_latents(args, z_dim)
    # Every check on the output before the generator runs.
    shape = model.recipe.image_shape
    if getattr(args, "scale_factor", None):
        shape = image_io.check_scale_factor(shape, args.scale_factor)
    if suffix == ".npz":
        require(not os.path.isdir(args.out), f"{args.out}: is an existing folder; give a file path such as "
                                             f"{os.path.join(args.out, 'images.npz')}")
    elif suffix == ".gif":
        image_io.check_image_path(args.out)
        image_io.check_grid_size(rows, shape)
        require(cols <= MAX_ANIMATION_STEPS,
                f"--interpolate {cols} with a .gif: an animation of at most {MAX_ANIMATION_STEPS} images per row "
                f"(its frames would last hours, and a GIF's frame timing overflows); give a smaller K, or "
                f"write all {cols} to a .npz --out")
    else:
        image_io.check_image_path(args.out)
        image_io.check_grid_size(len(z), shape, rows, cols)
    resources.require_memory(len(z) * (5 * int(np.prod(model.recipe.image_shape)) + int(np.prod(shape))),
                             f"-n {len(z)}: the images alone", "generate fewer per call")
    batch_stats = {"auto": None, "yes": True, "no": False}[args.batch_statistics]
    raw = generate_outputs(model, z, batch_stats, family.prog)
    pictures = image_io.to_uint8(model.recipe.generator_images(raw, model.fidelity))
    if getattr(args, "scale_factor", None):
        pictures = image_io.resize(pictures, scale_factor=args.scale_factor)
    if suffix == ".npz":
        from common.files import write_atomically

        try:
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            write_atomically(args.out, lambda handle: np.savez_compressed(
                handle, images=pictures, raw=raw.astype(np.float32), z=z), mode="wb")
        except OSError as exc:
            raise UserError(f"--out {args.out}: cannot write ({exc.strerror or exc}); choose another path") from None
    elif suffix == ".gif":
        # Frame k: the k-th image of every row; forward along the rows, then back.
        frames = [image_io.make_grid(pictures[k::cols]) for k in range(cols)]
        image_io.save_animation(frames + frames[-2:0:-1], args.out)
    else:
        image_io.save_image(image_io.make_grid(pictures, rows, cols), args.out)
    what = f"{rows} rows of {cols} interpolated images" if rows else f"{len(pictures)} images"
    print(f"{family.prog}: wrote {what} to {args.out}")
    return 0


GENERATE = Command("generate", "generate images from a trained run (the original's prediction())",
                   _add_generate_arguments, _run_generate)
