"""Optimizers over Variable layers: ``opt = optim.Adam(graph.variables, lr=1e-3); opt.step()``.

Update rules and defaults follow ``torch.optim``; each class's docstring gives its formula and
says where the lecture's slide writes a variant. ``optim.compare`` runs several of them on one problem
from the same starting point.
"""

from . import schedules
from .adaptive import Adadelta, Adagrad, Adam, RMSprop
from .base import Optimizer
from .compare import Comparison, compare
from .preconditioned import PreconditionedSGD
from .sgd import SGD, Momentum, Nesterov

ALL = {"SGD": SGD, "Momentum": Momentum, "Nesterov": Nesterov, "Adagrad": Adagrad,
       "RMSprop": RMSprop, "Adam": Adam, "Adadelta": Adadelta}

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "Adagrad", "RMSprop", "Adam", "Adadelta",
           "PreconditionedSGD", "schedules", "ALL", "compare", "Comparison"]
