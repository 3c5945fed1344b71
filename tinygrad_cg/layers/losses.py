"""Losses: a scalar, the **mean over the batch** (the first axis) of a per-example loss.

Score and target must have exactly the same shape: a label vector (N,) against scores (N, 1) raises
``ShapeError`` instead of broadcasting into an (N, N) loss. All are stable for inputs of any
magnitude (no overflow, finite gradients).
"""

from __future__ import annotations

import numpy as np

from ..errors import FeedError
from ..graph import Layer, Shape, dims_match, fmt_shape, shapes_match
from .activations import stable_sigmoid
from .sources import Constant, Input


class Loss(Layer):
    """Shape rule: prediction and target of identical shape, at least one (batch) axis."""

    def __init__(self, prediction: Layer, target: Layer, name: str | None = None):
        super().__init__(prediction, target, name=name)

    def infer_shape(self, prediction: Shape, target: Shape) -> Shape:
        if len(prediction) == 0 or not shapes_match(prediction, target):
            raise self.shape_error(
                f"prediction {fmt_shape(prediction)} and target {fmt_shape(target)} must have the same "
                "shape with a batch axis first (nothing is broadcast)"
            )
        return ()

    def batch_size(self) -> int:
        return self.inputs[0].output.shape[0]


class SquaredLoss(Loss):
    r"""L = (1/N) sum_n ||pred_n - target_n||^2  (sum over each example's features).

    .. math::

        L = \frac{1}{N} \sum_n \lVert p_n - t_n \rVert^2

        \delta_p \mathrel{+}= \frac{2}{N} (p - t)\, \delta

    delta_pred += (2/N) (pred - target) delta,   delta_target -= the same.
    """

    def forward(self):
        pred, target = self.inputs
        self.residual = pred.output - target.output
        self.output = np.asarray(np.square(self.residual).sum() / self.batch_size(), dtype=pred.output.dtype)

    def backward(self):
        pred, target = self.inputs
        grad = (2 * self.delta / self.batch_size()) * self.residual
        if pred.needs_delta:
            pred.delta += grad
        if target.needs_delta:
            target.delta -= grad


def check_signed_labels(layer: Layer, labels: Layer) -> None:
    """Fed labels (an Input or Constant) must be -1 or +1: 0/1 labels give a plausible loss that trains the
    wrong thing. Labels computed by the graph or trained (gradcheck feeds any values) are not checked."""
    if isinstance(labels, Input | Constant) and not np.all(np.abs(labels.output) == 1):
        seen = np.unique(labels.output)
        raise FeedError(f"{layer.describe()}: labels must be -1 or +1, got values {seen[:6].tolist()}"
                        + (" ..." if len(seen) > 6 else "") + f" in '{labels.name}' (map 0/1 labels by 2 y - 1)")


class HingeLoss(Loss):
    r"""L = (1/N) sum max(0, 1 - y s), labels y in {-1, +1}.

    .. math::

        L = \frac{1}{N} \sum_n \max(0, 1 - y_n s_n)

        \delta_{s_n} \mathrel{+}= -\frac{y_n}{N} [y_n s_n < 1]\, \delta

    delta_s += -(y / N) [y s < 1] delta  (the subgradient 0 is taken at the kink y s = 1);
    delta_y += -(s / N) [y s < 1] delta.
    """

    def forward(self):
        s, y = self.inputs
        check_signed_labels(self, y)
        margin = 1 - y.output * s.output
        self.active = margin > 0
        self.output = np.asarray(np.maximum(margin, 0).sum() / self.batch_size(), dtype=s.output.dtype)

    def backward(self):
        s, y = self.inputs
        scale = -self.delta / self.batch_size()
        if s.needs_delta:
            s.delta += scale * y.output * self.active
        if y.needs_delta:
            y.delta += scale * s.output * self.active


class LogisticLoss(Loss):
    r"""L = (1/N) sum log(1 + exp(-y s)), labels y in {-1, +1}.

    .. math::

        L = \frac{1}{N} \sum_n \log(1 + e^{-y_n s_n})

        \delta_{s_n} \mathrel{+}= -\frac{y_n}{N} \sigma(-y_n s_n)\, \delta

    With z = y s: dL/dz = -sigma(-z) / N, so delta_s += -(y/N) sigma(-y s) delta and
    delta_y += -(s/N) sigma(-y s) delta. ``logaddexp(0, -z)`` keeps the loss finite for any z.
    """

    def forward(self):
        s, y = self.inputs
        check_signed_labels(self, y)
        z = y.output * s.output
        self.sigma_minus_z = stable_sigmoid(-z)
        self.output = np.asarray(np.logaddexp(0, -z).sum() / self.batch_size(), dtype=s.output.dtype)

    def backward(self):
        s, y = self.inputs
        scale = -self.delta / self.batch_size()
        if s.needs_delta:
            s.delta += scale * y.output * self.sigma_minus_z
        if y.needs_delta:
            y.delta += scale * s.output * self.sigma_minus_z


class SoftmaxCrossEntropy(Layer):
    r"""Softmax log-loss: L = (1/N) sum_n -log p_n[label_n],  p_n = softmax(logits_n).

    .. math::

        L = -\frac{1}{N} \sum_n \log p_{n, \ell_n}, \quad p_n = \mathrm{softmax}(z_n)

        \delta_{z} \mathrel{+}= \frac{1}{N} (p - \mathrm{onehot}(\ell))\, \delta

    Shapes: logits (N, C), labels (N,) holding integers 0..C-1 (fed as floats, checked integral).
    delta_logits += (p - onehot(labels)) delta / N. Labels get no delta (they are indices).
    log p is computed as logits - logsumexp(logits), stable for logits of any magnitude.
    """

    def __init__(self, logits: Layer, labels: Layer, name: str | None = None):
        super().__init__(logits, labels, name=name)

    def infer_shape(self, logits: Shape, labels: Shape) -> Shape:
        if len(logits) != 2 or len(labels) != 1 or not dims_match(logits[0], labels[0]):
            raise self.shape_error(
                f"needs logits (N, C) and integer labels (N,), got {fmt_shape(logits)} and {fmt_shape(labels)}"
            )
        return ()

    def forward(self):
        logits, labels = self.inputs
        z = logits.output
        n, n_classes = z.shape
        index = labels.output.astype(np.int64)
        if np.any(index != labels.output) or np.any(index < 0) or np.any(index >= n_classes):
            raise FeedError(f"{self.describe()}: labels must be integers in 0..{n_classes - 1}")
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.probabilities = np.exp(log_p)
        self.index = index
        self.output = np.asarray(-log_p[np.arange(n), index].sum() / n, dtype=z.dtype)

    def backward(self):
        logits = self.inputs[0]
        if logits.needs_delta:
            n = self.index.shape[0]
            grad = self.probabilities.copy()
            grad[np.arange(n), self.index] -= 1
            logits.delta += grad * (self.delta / n)
