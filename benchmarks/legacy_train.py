"""The original's training script as one process, on its own TF1 graph: what the port's
``train`` is timed against from start to exit (``benchmarks.whole_process``).

It does what ``gantrain()``/``wgantrain()`` did, on the data ``genmnist train`` reads:
import TensorFlow, read the images (divided by 255; the vanilla GAN's shuffled once at
load), build and initialise the graph (``common.legacy_tf1``), the vanilla GAN's 30
discriminator-only steps, the iterations with NumPy z draws and ``feed_dict`` session
runs, a line and an 8x8 sample grid at each iteration of the display schedule (the port's
grid, where the original wrote three BMPs), and ``Saver.save`` at the end. Per-iteration
TensorBoard scalars, which the original also wrote, are left out: the original's side
does a little less than it did::

    python -m benchmarks.legacy_train --model gan --steps 300 --out /tmp/legacy-gan
"""

if not __package__:
    raise SystemExit("run it from the repository root as: python -m benchmarks.legacy_train")

import argparse  # noqa: E402
import os  # noqa: E402

import numpy as np  # noqa: E402

from common import data  # noqa: E402
from common.callbacks import is_display_iteration  # noqa: E402
from common.errors import UserError  # noqa: E402
from common.images import save_grid  # noqa: E402
from common.latents import sample_latents  # noqa: E402
from common.legacy_tf1.graphs import MODEL_CONFIGS, write_random_checkpoint  # noqa: E402
from genmnist import EMBEDDED  # noqa: E402

SAMPLE_GRID = 64  # the port's sample grid: 8x8 at the run's fixed z


def train(model, steps, batch_size, seed, out, images_path=EMBEDDED):
    """Run the original's loop for ``steps`` iterations; returns the checkpoint prefix."""
    images = data.read_images(images_path, (28, 28, 1))
    if model == "gan":  # gantrain() shuffled once at load, then let _next_batch walk through
        images = images[np.random.default_rng(seed).permutation(len(images))]
    os.makedirs(os.path.join(out, "samples"), exist_ok=True)
    sample_z = sample_latents(SAMPLE_GRID, MODEL_CONFIGS[model].z_dim, seed)

    def on_iteration(i, graph, losses):
        if is_display_iteration(i, steps):
            path = os.path.join(out, "samples", f"sample_{i}_epoch.png")
            save_grid(graph.generate(sample_z).reshape(-1, 28, 28, 1), path, rows=8, cols=8)
            print(f"iteration {i}: d_loss {losses['d_loss']:.5g}  g_loss {losses['g_loss']:.5g}  -> {path}",
                  flush=True)

    prefix = write_random_checkpoint(model, os.path.join(out, "tf1", model), seed, data=images,
                                     iterations=steps, pretrain_steps=30 if model == "gan" else 0,
                                     batch_size=batch_size, on_iteration=on_iteration)
    print(f"saved {prefix} after {steps} iterations", flush=True)
    return prefix


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.legacy_train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["gan", "wgan"], default="gan")
    parser.add_argument("--steps", type=int, default=300, help="training iterations (the 30 warm-up steps not counted)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the original's (gan 128, wgan 64)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=EMBEDDED, help="MNIST images in any format genmnist reads (default: "
                                                        "the embedded sample)")
    parser.add_argument("--out", required=True, help="folder for the sample grids and the TF1 checkpoint")
    args = parser.parse_args(argv)
    try:
        train(args.model, args.steps, args.batch_size, args.seed, args.out, args.data)
    except UserError as error:
        raise SystemExit(f"{parser.prog}: {error}") from None


if __name__ == "__main__":
    main()
