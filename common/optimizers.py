"""The optimiser of the original, TF1's ``tf.train.AdamOptimizer``, on Keras 3.

Why a subclass of Keras' Adam at all: parity. Keras writes Adam's update as a dozen
element-wise ops whose float32 rounding differs from TF1's one fused ``ApplyAdam`` kernel,
and the lockstep parity with the original's graph (``compare``, ``tests/test_parity.py``)
holds to 1e-4 only with the kernel's rounding. Keras offers no public hook for a custom
update kernel, so :class:`TF1Adam` reads its slots through Keras' (private) slot lists;
checkpoints and serialisation stay Keras Adam's own.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="gan_port")
class TF1Adam(keras.optimizers.Adam):
    """Keras' Adam whose update is TF1's own fused kernel, ``ResourceApplyAdam``.

    The kernel computes ``alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``,
    ``m += (g - m) * (1 - beta1)``, ``v += (g^2 - v) * (1 - beta2)``,
    ``var -= alpha * m / (sqrt(v) + epsilon)`` in float32 throughout, as TF1 did, in one
    pass over memory where Keras' ops make a dozen (docs/speed.md has the timings). The
    beta powers are Keras' ``beta^t`` (TF1 multiplied a variable by beta after every step;
    see ``common/legacy_tf1/checkpoints.py``). Slots, step count and serialisation are
    Keras Adam's own, so checkpoints are unchanged. Falls back to Keras' update where the
    kernel does not apply (AMSGrad, sparse gradients, mixed dtypes).
    """


    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        if (self.amsgrad or isinstance(gradient, tf.IndexedSlices) or gradient.dtype != dtype
                or not hasattr(variable, "handle")):
            return super().update_step(gradient, variable, learning_rate)
        local_step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].value.handle,
            v=self._velocities[index].value.handle,
            beta1_power=tf.pow(beta_1, local_step), beta2_power=tf.pow(beta_2, local_step),
            lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype), grad=gradient, use_locking=False)


def adam(learning_rate, beta1, beta2=0.999):
    """TF1's ``AdamOptimizer``: its fused update (:class:`TF1Adam`) and its epsilon (1e-8;
    Keras defaults to 1e-7).
    """
    return TF1Adam(learning_rate=learning_rate, beta_1=beta1, beta_2=beta2, epsilon=1e-8)


def loss_scaled(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)
