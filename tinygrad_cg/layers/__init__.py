"""The layer catalogue. ``from tinygrad_cg import layers as L``; then ``L.Affine(x, W, b)`` etc.

Each layer is a small class: a docstring with its formula and shapes, ``forward`` and ``backward``.
"""

from .activations import ReLU, Sigmoid, Softmax, Step, Tanh
from .affine import Affine
from .arithmetic import Add, MatMul, Mean, Multiply, Square, Subtract, Sum
from .conv import Conv2D, FlattenKernel, Im2Col, RowsToImages
from .losses import HingeLoss, LogisticLoss, SoftmaxCrossEntropy, SquaredLoss
from .normalization import BatchNorm
from .pooling import AvgPool2D, MaxPool2D
from .shape import Concat, Flatten, GroupRows, Reshape
from .sources import Constant, Input, Variable

__all__ = [
    "Input", "Variable", "Constant",
    "Add", "Subtract", "Multiply", "Square", "MatMul", "Sum", "Mean",
    "Affine",
    "ReLU", "Sigmoid", "Tanh", "Softmax", "Step",
    "SquaredLoss", "HingeLoss", "LogisticLoss", "SoftmaxCrossEntropy",
    "Reshape", "Flatten", "GroupRows", "Concat",
    "Im2Col", "FlattenKernel", "RowsToImages", "Conv2D", "MaxPool2D", "AvgPool2D", "BatchNorm",
]
