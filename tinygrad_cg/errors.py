"""Typed errors of tinygrad_cg.

Every error names the layer (its kind and name) and the shapes or values involved, so that a
mistake in wiring a graph is found where it was made, not three layers later as a NaN.
All are subclasses of ``ValueError``.
"""


class ShapeError(ValueError):
    """A layer received inputs whose shapes do not fit together (nothing is silently broadcast)."""


class FeedError(ValueError):
    """A feed is missing, unknown, of the wrong shape, or cannot be cast to the graph's dtype."""


class GraphError(ValueError):
    """The graph itself is malformed: a cycle, a non-layer input, duplicate names, a non-scalar loss."""


class NonFiniteError(GraphError):
    """``Graph(check_finite=True)`` found NaN or Inf; the message names the first layer that made it."""


class GradientCheckError(ValueError):
    """``diagnostics.gradcheck`` found a backward pass that disagrees with finite differences."""


class ArgumentError(ValueError):
    """A constructor argument out of its range: a size, stride, kernel, padding, rate or policy. The
    message names the layer, builder or optimizer, the argument and the value."""


class CheckpointError(ValueError):
    """``io.load`` / ``io.save``: the file is not a checkpoint (truncated, empty, not ``.npz``, unreadable)
    or cannot be written there. The graph is left unchanged."""
