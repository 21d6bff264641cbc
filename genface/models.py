"""The faces WGAN-GP of the original (``WGAN_GPModel``, spec section 3), layer for layer.

It is the MNIST WGAN-GP made deeper for 96x96 colour images: the generator grows a
6x6x512 tensor through four 5x5 stride-2 transposed convolutions (12, 24, 48, 96) to a
1x1 convolution with a sigmoid; the critic halves the image four times (48, 24, 12, 6)
with strided leaky-ReLU convolutions before two dense layers. The layers come from
:mod:`common.layers` (channel-count Xavier weights, 0.1 biases, leaky ReLU 0.2), the same
ones the MNIST WGAN-GP is built from, and are named after their TF1 variables
(``g1``..``g7``; ``d1``, ``d2``, ``d2_2``, ``d2_3``, ``d3``, ``d4``) under the scopes
``generator`` and ``discriminator``.

Quirk Q5: the original's critic ended in ``self.channels`` = 3 outputs, one per image
channel, where a critic needs one score. The losses and the penalty average (and, for
the penalty's gradient, sum) over all of them, so the model trains either way; legacy
fidelity keeps the 3, fixed fidelity has the single score of the WGAN-GP paper.

Colour order: the original read its faces with ``cv2.imread`` (BGR) and so trained a
generator of BGR images, then saved them as if RGB (quirk Q7, blue-tinted faces). The
port converts to RGB when it reads, so this generator's outputs are RGB.
"""

import keras

from common.recipes import Recipe, register_recipes
from common.settings import Preset
from common.layers import leaky_relu, xavier_conv, xavier_deconv, xavier_dense
from common.naming import build_network

Z_DIM = 128
IMAGE_SHAPE = (96, 96, 3)


def critic_outputs(fidelity):
    """How many scores the critic gives per image: 3 as written (Q5), or 1 (fixed)."""
    return IMAGE_SHAPE[2] if fidelity == "legacy" else 1


def face_generator(fidelity="legacy", z_dim=Z_DIM):
    """z [N, z_dim] -> RGB images [N, 96, 96, 3] in [0, 1] (sigmoid); no batch norm."""
    return build_network("generator", (z_dim,), [
        xavier_dense(1024, "g1", "relu"),
        xavier_dense(6 * 6 * 512, "g2", "relu"), keras.layers.Reshape((6, 6, 512)),
        xavier_deconv(256, "g3"),  # 12x12
        xavier_deconv(128, "g4"),  # 24x24
        xavier_deconv(64, "g5"),   # 48x48
        xavier_deconv(32, "g6"),   # 96x96
        xavier_conv(IMAGE_SHAPE[2], "g7", kernel_size=1, strides=1, activation="sigmoid"),
    ], tf1_scope="generator")


def face_critic(fidelity="legacy"):
    """images [N, 96, 96, 3] -> scores [N, 3] (legacy, Q5) or [N, 1] (fixed); no sigmoid."""
    return build_network("discriminator", IMAGE_SHAPE, [
        xavier_conv(64, "d1"), leaky_relu(),     # 48x48
        xavier_conv(128, "d2"), leaky_relu(),    # 24x24
        xavier_conv(256, "d2_2"), leaky_relu(),  # 12x12
        xavier_conv(512, "d2_3"), leaky_relu(),  # 6x6
        keras.layers.Flatten(),                  # 18432, NHWC row-major as tf.reshape
        xavier_dense(1024, "d3"), leaky_relu(),
        xavier_dense(critic_outputs(fidelity), "d4"),
    ], tf1_scope="discriminator")


FACE = Recipe(
    name="face", z_dim=Z_DIM, image_shape=IMAGE_SHAPE,
    build_generator=face_generator, build_discriminator=face_critic,
    loss="wasserstein", penalty_weight=10.0, discriminator_steps=5, pretrain_steps=0, share_z=False,
    default_steps=50000, default_batch_size=64, default_learning_rate=1e-4, beta1=0.5, beta2=0.9,
    sample_prefix="sampleface",
    description="WGAN-GP on 96x96 colour faces (WGAN_GPModel): 5 critic steps per generator "
                "step, gradient penalty 10, 3 critic outputs in legacy fidelity")

RECIPES = register_recipes({"face": FACE})


# A recipe beyond the original's (train --preset best), chosen by screening on the cartoon
# faces with the networks unchanged: docs/faces.md, "How it was chosen". Fixed
# fidelity (one critic score, the penalty's alpha per sample), bfloat16 layers and one
# critic call on the real and generated batch together (the fastest options on a CPU with
# AVX-512 BF16), batch 16, an averaged generator and the best checkpoint by Frechet distance.
BEST = Preset(
    name="best", model="face",
    settings=(("fidelity", "fixed"), ("batch_size", 16), ("learning_rate", 2e-4), ("steps", 50000),
              ("ema_decay", 0.995), ("eval_every", 200), ("precision", "mixed_bfloat16"),
              ("fused_discriminator", True)),
    recipe_changes=(("discriminator_steps", 2), ("beta1", 0.5), ("beta2", 0.9)),
    description="the faces WGAN-GP in fixed fidelity with 2 critic steps per generator step at twice the "
                "learning rate, batch 16, bfloat16 layers and the fused critic, an averaged generator "
                "(--ema-decay 0.995) and the best checkpoint (--eval-every 200); use it with --max-minutes")

PRESETS = {"best": BEST}
