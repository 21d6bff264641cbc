"""Pieces shared by the three models of the port: one training step, one data pipeline,
one image writer, one command line."""

import os

# TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notices) buries the messages
# users need; keep warnings and errors only, unless the user asked for more.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
