"""The optimizer base class: a list of Variables, a learning rate, an optional schedule.

An optimizer reads each Variable's ``delta`` (the gradient left by ``Graph.backward``) and updates
its ``output`` (the parameter) in place. There is no ``zero_grad``: ``Graph.backward`` resets every
delta itself. A Variable whose delta is ``None`` (not reached by backward) is skipped, as torch
skips parameters without a gradient.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import checks
from ..errors import GraphError
from ..layers.sources import Variable

Schedule = Callable[[int], float]


class Optimizer:
    """Base class. Subclasses implement ``update(param, grad, state, lr)``, changing ``param`` in place.

    Args:
        params: the Variables to train (e.g. ``graph.variables``).
        lr: the base learning rate alpha (> 0).
        weight_decay: L2 penalty lambda, added to the gradient: g <- g + lambda w (as torch does).
        schedule: a callable t -> factor; the learning rate at step t (from 0) is ``lr * schedule(t)``.
    """

    def __init__(self, params: Iterable[Variable], lr: float, weight_decay: float = 0.0,
                 schedule: Schedule | None = None):
        self.params = self.variables_from(params)
        self.lr = self.check("lr", lr, 0, low_open=True)  # lr = 0 would never move: almost surely a mistake
        self.weight_decay = self.check("weight_decay", weight_decay, 0)
        if schedule is not None and not callable(schedule):
            raise checks.ArgumentError(f"{type(self).__name__}: schedule must be a callable t -> factor, "
                                       f"got {schedule!r}")
        self.schedule = schedule
        self.t = 0
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def variables_from(self, params: Any) -> list[Variable]:
        """The Variables to train, from ``graph.variables`` or any list of Variables; a Graph, a lone Variable
        or an array gets a ``GraphError`` that says what to pass instead."""
        from ..graph import Graph

        name = type(self).__name__
        if isinstance(params, Graph):
            raise GraphError(f"{name} trains a list of Variables: pass graph.variables, not the Graph itself")
        if isinstance(params, Variable):
            raise GraphError(f"{name} trains a list of Variables: pass [{params.name}] (or graph.variables), "
                             "not one Variable")
        if isinstance(params, np.ndarray) or not isinstance(params, Iterable):
            raise GraphError(f"{name} trains a list of Variables (graph.variables), got a {type(params).__name__}; "
                             "wrap a parameter array in L.Variable and build the graph from it")
        variables = list(params)
        for p in variables:
            if not isinstance(p, Variable):
                raise GraphError(f"{name} trains Variable layers (pass graph.variables), got {p!r}")
        if not variables:
            raise GraphError(f"{name} got no parameters to train (graph.variables is empty: no L.Variable "
                             "upstream of the graph's outputs)")
        return variables

    def check(self, arg: str, value: Any, low: float, high: float = float("inf"), high_open: bool = False,
              low_open: bool = False) -> float:
        """A hyperparameter in [low, high] (a bound excluded when ``*_open``), else ``ArgumentError`` naming
        this optimizer and ``arg`` (the ranges torch.optim checks, lr > 0, and decay rates below 1 so that
        averages forget)."""
        return checks.real(type(self).__name__, arg, value, low, high, high_open=high_open, low_open=low_open)

    @property
    def current_lr(self) -> float:
        """The learning rate the next ``step`` will use."""
        return self.lr * (self.schedule(self.t) if self.schedule is not None else 1.0)

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        lr = self.current_lr
        self.t += 1
        for _index, param, grad, state in self.gradients():
            self.update(param, grad, state, lr)

    def gradients(self):
        """(index, parameter array, gradient incl. weight decay, state) for each parameter with a delta."""
        for index, (p, state) in enumerate(zip(self.params, self.state, strict=True)):
            if p.delta is None:
                continue
            grad = p.delta if self.weight_decay == 0 else p.delta + self.weight_decay * p.output
            yield index, p.output, grad, state

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], lr: float) -> None:
        raise NotImplementedError

    @staticmethod
    def buffer(state: dict[str, Any], name: str, like: np.ndarray) -> np.ndarray:
        """``state[name]``, created as zeros shaped like ``like`` on first use (``setdefault`` would
        allocate a fresh zero array on every step only to throw it away)."""
        if name not in state:
            state[name] = np.zeros_like(like)
        return state[name]

    # --- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A deep copy of everything needed to continue identically: step count, buffers, schedule."""
        return {
            "t": self.t,
            "state": copy.deepcopy(self.state),
            "schedule": copy.deepcopy(getattr(self.schedule, "__dict__", None)),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["state"]) != len(self.params):
            raise GraphError(
                f"{type(self).__name__}: state has {len(state['state'])} parameter entries, "
                f"optimizer has {len(self.params)}"
            )
        for p, entry in zip(self.params, state["state"], strict=True):
            for key, value in entry.items():
                if isinstance(value, np.ndarray) and value.shape != p.output.shape:
                    raise GraphError(
                        f"{type(self).__name__}: state '{key}' of '{p.name}' has shape {value.shape}, "
                        f"parameter has {p.output.shape}"
                    )
        self.t = state["t"]
        self.state = copy.deepcopy(state["state"])
        if state.get("schedule") is not None and self.schedule is not None:
            self.schedule.__dict__.update(copy.deepcopy(state["schedule"]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, {len(self.params)} parameters, step {self.t})"
