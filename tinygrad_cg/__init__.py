"""tinygrad_cg: a computation-graph autodiff framework in NumPy, for learning how backprop works
and for reproducing "Failures of Gradient-Based Deep Learning" (Shalev-Shwartz, Shamir, Shammah 2017).

    import tinygrad_cg as cg
    from tinygrad_cg import layers as L

    x, y = L.Input("x"), L.Input("y")
    w = L.Variable(0.5, name="w")
    loss = L.Square(L.Subtract(L.Multiply(w, x), y))
    g = cg.Graph(loss)
    g.forward({"x": 2.0, "y": 3.0}); g.backward(); print(w.delta)

Numba is imported only when a kernel first runs, so importing this package stays fast.
"""

from . import diagnostics, errors, init, io, layers, nn, optim, steps, viz
from .errors import (
    ArgumentError,
    CheckpointError,
    FeedError,
    GradientCheckError,
    GraphError,
    NonFiniteError,
    ShapeError,
)
from .graph import Graph, Layer

__version__ = "0.1.0"

__all__ = [
    "Graph", "Layer", "layers", "nn", "optim", "init", "diagnostics", "io", "errors", "steps", "viz",
    "ShapeError", "FeedError", "GraphError", "NonFiniteError", "GradientCheckError", "ArgumentError",
    "CheckpointError",
]
