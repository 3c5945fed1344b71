"""End-to-end vs decomposition, part 1: the networks (REPRODUCTION.md section 2).

N1 (conv 5x5x16 'same' + max-pool 2, twice, Affine 50 + ReLU, Affine 100 + ReLU, Affine 1) scores every image
of a k-tuple with shared weights; a sigmoid links each score; N2 (Affine k -> 100 + ReLU, Affine 1) scores the
tuple. The convolutions are the fused ``L.Conv2D`` (``nn.conv2d(..., fused=True)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import data
from tinygrad_cg import layers as L

ADAM = dict(betas=(0.9, 0.99), eps=1e-5)  # [orig]
APPROACHES = ("end-to-end", "decomposition")
COLORS = {"end-to-end": "red", "decomposition": "blue"}


# --- the networks -------------------------------------------------------------------------------

CONV_INITS = ("orig", "fan_in")
# The std of N1's truncated-normal conv kernels (conv1, conv2) for each ``conv_init``.
# "orig": tuple_rect.py's ``conv_maxpool`` draws std 1/sqrt(input_channels), where input_channels is the last
# axis of the layer's input *before* it is reshaped to NHWC: for conv1 that is the image's width (the input is
# (N, 28, 28)), 1/sqrt(28) = 0.189; for conv2 the 16 channels, 1/sqrt(16) = 0.25 (the 5x5 window is not
# counted). "fan_in": 1/sqrt(C_in kh kw), what this library's ``truncated_normal`` does: 1/sqrt(25) = 0.2 and
# 1/sqrt(400) = 0.05, so conv2's kernels are 5x smaller than the authors' (and Adam's steps, of a fixed size,
# move them 5x more relative to their size). The Affine layers are fan-in in both.
CONV_STDS = {"orig": (1 / np.sqrt(28), 1 / np.sqrt(16)), "fan_in": (1 / np.sqrt(25), 1 / np.sqrt(400))}


def n1_features(images: cg.Layer, rng: np.random.Generator, conv_init: str = "orig") -> cg.Layer:
    """N1 up to its last hidden layer: (N, 1, 28, 28) -> (N, 100). 'Same' padding is padding = 2 for 5x5.
    ``conv_init``: "orig" or "fan_in" (``CONV_STDS``); the same standard normal draws, scaled."""
    if conv_init not in CONV_STDS:
        raise ValueError(f"conv_init must be one of {CONV_INITS}, not {conv_init!r}")
    std1, std2 = (partial(cg.init.truncated_normal, std=std) for std in CONV_STDS[conv_init])
    h = L.MaxPool2D(cg.nn.conv2d(images, 16, 5, padding=2, rng=rng, init=std1, name="conv1", fused=True), 2)
    h = L.MaxPool2D(cg.nn.conv2d(h, 16, 5, padding=2, rng=rng, init=std2, name="conv2", fused=True), 2)  # 16x7x7
    h = L.ReLU(cg.nn.affine(L.Flatten(h), 50, rng=rng, name="fc1"))
    return L.ReLU(cg.nn.affine(h, 100, rng=rng, name="fc2"))


@dataclass
class TupleNet:
    """N1 applied to every image of a tuple (shared weights), then N2; the graphs the demo runs.

    Feeds: ``images`` (N*k, 1, 28, 28) tuple-major, ``labels`` (N*k, 1) per image, ``target`` (N, 1).
    """

    k: int
    score: cg.Layer          # N1's output, one score per image (N*k, 1): its W is "the last layer of N1"
    tuple_score: cg.Layer    # N2's output (N, 1)
    primary: cg.Layer        # hinge(tuple score, target)
    secondary: cg.Layer      # hinge(image score, image label)
    graphs: dict[str, cg.Graph] = field(default_factory=dict)

    def loss_graph(self, approach: str) -> cg.Graph:
        if approach not in self.graphs:
            loss = self.primary if approach == "end-to-end" else L.Add(self.primary, self.secondary, name="loss")
            self.graphs[approach] = cg.Graph(loss, input_grads=False)
        return self.graphs[approach]

    def predictor(self) -> cg.Graph:
        if "predict" not in self.graphs:
            self.graphs["predict"] = cg.Graph(self.tuple_score, input_grads=False)
        return self.graphs["predict"]


def tuple_head(features: cg.Layer, k: int, rng: np.random.Generator):
    """N1's last layer (100 -> 1 score), the sigmoid link, grouping per tuple, and N2 (k -> 100 -> 1)."""
    score = cg.nn.affine(features, 1, rng=rng, name="score")
    return score, n2_head(score, k, rng)


def n2_head(score: cg.Layer, k: int, rng: np.random.Generator) -> cg.Layer:
    """From the images' scores (N, 1) to the tuple score: the sigmoid link, grouping per tuple, N2."""
    links = L.GroupRows(L.Sigmoid(score), k, name="tuple_links")             # (N, k)
    hidden = L.ReLU(cg.nn.affine(links, 100, rng=rng, name="n2_hidden"))
    return cg.nn.affine(hidden, 1, rng=rng, name="tuple_score")


def build_tuple_net(k: int, rng: np.random.Generator, conv_init: str = "orig") -> TupleNet:
    images = L.Input("images", shape=(None, 1, 28, 28))
    labels, target = L.Input("labels", shape=(None, 1)), L.Input("target", shape=(None, 1))
    score, tuple_score = tuple_head(n1_features(images, rng, conv_init), k, rng)
    return TupleNet(k, score, tuple_score, L.HingeLoss(tuple_score, target, name="primary"),
                    L.HingeLoss(score, labels, name="secondary"))


def tuple_feed(k: int, n: int, rng: np.random.Generator, with_labels: bool = True) -> dict[str, np.ndarray]:
    images, labels, target = data.line_tuples(k, n, rng)
    feed = {"images": images.reshape(n * k, 1, 28, 28), "target": target}
    if with_labels:
        feed["labels"] = labels.reshape(n * k, 1)
    return feed


def tuple_accuracy(net: TupleNet, test: dict[str, np.ndarray], chunk: int = 250) -> float:
    """0-1 accuracy of sign(tuple score) against the parity target on held-out tuples."""
    predictor, k = net.predictor(), net.k
    correct = 0
    for start in range(0, len(test["target"]), chunk):
        images = test["images"][start * k:(start + chunk) * k]
        score = predictor.forward({"images": images})
        correct += int(np.sum(np.where(score >= 0, 1.0, -1.0) == test["target"][start:start + chunk]))
    return correct / len(test["target"])
