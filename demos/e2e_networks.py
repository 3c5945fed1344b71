"""End-to-end vs decomposition, part 1: the networks (REPRODUCTION.md section 2).

N1 (conv 5x5x16 'same' + max-pool 2, twice, Affine 50 + ReLU, Affine 100 + ReLU, Affine 1) scores every image
of a k-tuple with shared weights; a sigmoid links each score; N2 (Affine k -> 100 + ReLU, Affine 1) scores the
tuple. The convolutions are the fused ``L.Conv2D`` (``nn.conv2d(..., fused=True)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import tinygrad_cg as cg
from tinygrad_cg import data
from tinygrad_cg import layers as L

ADAM = dict(betas=(0.9, 0.99), eps=1e-5)  # [orig]
APPROACHES = ("end-to-end", "decomposition")
COLORS = {"end-to-end": "red", "decomposition": "blue"}


# --- the networks -------------------------------------------------------------------------------

def n1_features(images: cg.Layer, rng: np.random.Generator) -> cg.Layer:
    """N1 up to its last hidden layer: (N, 1, 28, 28) -> (N, 100). 'Same' padding is padding = 2 for 5x5."""
    h = L.MaxPool2D(cg.nn.conv2d(images, 16, 5, padding=2, rng=rng, name="conv1", fused=True), 2)  # 16 x 14 x 14
    h = L.MaxPool2D(cg.nn.conv2d(h, 16, 5, padding=2, rng=rng, name="conv2", fused=True), 2)       # 16 x 7 x 7
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


def build_tuple_net(k: int, rng: np.random.Generator) -> TupleNet:
    images = L.Input("images", shape=(None, 1, 28, 28))
    labels, target = L.Input("labels", shape=(None, 1)), L.Input("target", shape=(None, 1))
    score, tuple_score = tuple_head(n1_features(images, rng), k, rng)
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
