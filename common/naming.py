"""Keras networks whose every variable traces to one variable of the original TF1 graph.

Layers are named after their TF1 variables by one rule: a layer ``<p><k>`` (``g3``,
``d2_2``) holds the kernel ``<p>_w<k>`` and the bias ``<p>_b<k>``; a batch-norm layer
``bnK`` holds ``bnK/beta``, ``bnK/moving_mean`` and ``bnK/moving_variance``. A network
carries the TF1 variable scope its variables lived in (``discriminator``, ``generator``,
or none for the vanilla GAN's generator). Checkpoint import and export, and the parity
checks, go through :func:`tf1_variables` and nothing else.
"""

import re

import keras

_LAYER = re.compile(r"^([a-z]+)(\d+(?:_\d+)*)$")


def build_network(name, input_shape, layers, tf1_scope=""):
    """A Sequential network on ``input_shape`` that remembers its TF1 scope."""
    network = keras.Sequential([keras.Input(shape=input_shape), *layers], name=name)
    network.tf1_scope = tf1_scope
    return network


def tf1_variable_name(tf1_scope, layer_name, variable_name):
    """The TF1 name of Keras variable ``variable_name`` of layer ``layer_name``."""
    if layer_name.startswith("bn"):
        local = f"{layer_name}/{variable_name}"
    else:
        match = _LAYER.match(layer_name)
        if not match or variable_name not in ("kernel", "bias"):
            raise ValueError(f"layer {layer_name!r} variable {variable_name!r} has no TF1 name")
        letter = "w" if variable_name == "kernel" else "b"
        local = f"{match.group(1)}_{letter}{match.group(2)}"
    return f"{tf1_scope}/{local}" if tf1_scope else local


def tf1_variables(network):
    """{TF1 variable name: Keras variable} for every variable of ``network``."""
    names = {}
    for layer in network.layers:
        for variable in layer.weights:
            name = tf1_variable_name(network.tf1_scope, layer.name, variable.name)
            names[name] = variable
    return names
