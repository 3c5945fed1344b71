"""The layer catalogue. ``from tinygrad_cg import layers as L``; then ``L.Affine(x, W, b)`` etc.

Each layer is a small class: a docstring with its formula and shapes, ``forward`` and ``backward``.
"""

from .activations import ReLU, Sigmoid, Tanh
from .affine import Affine
from .arithmetic import Add, MatMul, Mean, Multiply, Square, Subtract, Sum
from .losses import HingeLoss, LogisticLoss, SoftmaxCrossEntropy, SquaredLoss
from .shape import Concat, Flatten, Reshape
from .sources import Constant, Input, Variable

__all__ = [
    "Input", "Variable", "Constant",
    "Add", "Subtract", "Multiply", "Square", "MatMul", "Sum", "Mean",
    "Affine",
    "ReLU", "Sigmoid", "Tanh",
    "SquaredLoss", "HingeLoss", "LogisticLoss", "SoftmaxCrossEntropy",
    "Reshape", "Flatten", "Concat",
]
