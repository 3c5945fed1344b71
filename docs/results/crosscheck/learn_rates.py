"""Section 3's end-to-end threshold as a rate over seeds: this project's engine and the PyTorch cross-check.

Learning end-to-end at k = 2 (and 3) is abrupt and seed-dependent: a run sits at one constant answer (held-out
accuracy ~0.47-0.53) and either jumps to ~0.9 or never leaves. One seed cannot settle whether "end-to-end
fails at k"; the share of seeds that learn can. A run here trains end-to-end on k-tuples with the authors'
settings (batch 200, Adam lr 0.001, betas (0.9, 0.99), eps 1e-5, their conv init, 2,000 held-out tuples every
100 iterations) until it has **learned** (``CONSECUTIVE`` evaluations in a row at or above ``LEVEL``) or its
budget is spent. Its "learned at" is the first evaluation of that streak.

Two implementations run the same protocol:

- ``ours``: ``demos.e2e_vs_decomposition.train`` (this library's graph, fresh tuples every step);
- ``torch``: ``tuple_rect_torch.train``, a transliteration of the authors' ``tuple_rect.py`` with TF1's
  semantics that shares no code with the library (500,000 pre-generated tuples cycled, NHWC, TF's Adam).

Each has variants for the ablation (which component, swapped, changes the rate): ``adam`` = "tensorflow" (the
authors' epsilon hat) or "torch" (torch.optim's form); for the cross-check also ``pool_tuples`` (0: a fresh
pool the size of the run, i.e. no tuple seen twice). ``docs/results/e2e_learn_rates.py`` is the command line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

LEVEL, CONSECUTIVE = 0.8, 3


@dataclass(frozen=True)
class RateSettings:
    """What every run of the learn-rate study shares (the authors' evaluation)."""

    eval_every: int = 100
    test_tuples: int = 2_000
    level: float = LEVEL
    consecutive: int = CONSECUTIVE


def summarize(iterations, accuracy, step_seconds: float, budget: int, level: float = LEVEL,
              consecutive: int = CONSECUTIVE) -> dict:
    """A run's curve and its verdict: ``learned_at`` = the first evaluation of the first streak of
    ``consecutive`` evaluations at or above ``level`` (-1 if none within the budget)."""
    iterations, accuracy = np.asarray(iterations, dtype=np.int64), np.asarray(accuracy, dtype=np.float64)
    above = accuracy >= level
    learned_at = -1
    for start in range(len(above) - consecutive + 1):
        if above[start:start + consecutive].all():
            learned_at = int(iterations[start])
            break
    return dict(iterations=iterations, accuracy=accuracy, learned_at=learned_at, budget=budget,
                last_iteration=int(iterations[-1]), step_seconds=float(step_seconds))


# --- the runs (module-level: Dask ships them to its workers) ----------------------------------------

# what ``demos.e2e_vs_decomposition.train`` reads of its settings, with the held-out set's size: two plans that
# agree on these train end-to-end identically (same seed: same weights, batches, held-out tuples)
TRAINING_FIELDS = ("batch", "lr", "adam_eps_form", "conv_init", "iterations", "eval_every", "test_tuples")


def ours_plan(settings: RateSettings, budget: int, adam: str):
    """The demo's paper plan with this study's budget, Adam form and evaluation (``ours_run`` trains with it)."""
    from demos.e2e_settings import PAPER

    return dataclasses.replace(PAPER, iterations=budget, adam_eps_form=adam, eval_every=settings.eval_every,
                               test_tuples=settings.test_tuples, conv_init="orig")


def same_training(a, b) -> bool:
    """Whether two e2e ``Settings`` train end-to-end identically (``TRAINING_FIELDS``)."""
    return all(getattr(a, name) == getattr(b, name) for name in TRAINING_FIELDS)


def ours_run(settings: RateSettings, seed: int, k: int, budget: int, adam: str = "tensorflow",
             checkpoint=None) -> dict:
    """This project's end-to-end training (the paper plan's network, data, init and evaluation), stopped
    once learned. Seed s draws the same weights, batches and held-out tuples as the demo's seed s."""
    from demos.e2e_networks import tuple_feed
    from demos.e2e_vs_decomposition import train
    from demos.runner import NO_CHECKPOINT

    plan = ours_plan(settings, budget, adam)
    test = tuple_feed(k, plan.test_tuples, np.random.default_rng([seed, 3, k]), with_labels=False)
    result = train("end-to-end", k, plan, seed, test, False, checkpoint or NO_CHECKPOINT,
                   until_learned=(settings.level, settings.consecutive))
    return summarize(result["iterations"], result["accuracy"], result["step_seconds"], budget,
                     settings.level, settings.consecutive)


def torch_run(settings: RateSettings, seed: int, k: int, budget: int, adam: str = "tensorflow",
              pool_tuples: int = 500_000, checkpoint=None) -> dict:
    """The PyTorch transliteration of ``tuple_rect.py`` (one thread), stopped once learned. ``pool_tuples``
    = 0: a pool as large as the run's reads, so that no tuple repeats (fresh data, as ours)."""
    import tuple_rect_torch

    pool = pool_tuples or (budget + 1) * tuple_rect_torch.BATCH_SIZE + (budget // 100 + 1) * settings.test_tuples
    result = tuple_rect_torch.train(k, seed, max_steps=budget, adam=adam, learned=settings.level,
                                    consecutive=settings.consecutive, pool_tuples=pool, checkpoint=checkpoint)
    return summarize(result["iterations"], result["accuracy"], result["step_seconds"], budget,
                     settings.level, settings.consecutive)


# --- the study: which runs, on which seeds ------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """One row of the study: an implementation and variant at one k and budget, on seeds 0..seeds-1."""

    implementation: str            # "ours" or "torch"
    k: int
    budget: int
    seeds: int
    adam: str = "tensorflow"
    pool_tuples: int | None = None  # torch only: None = the authors' 500,000

    @property
    def label(self) -> str:
        parts = [self.implementation, f"Adam {self.adam}"]
        if self.pool_tuples is not None:
            parts.append("fresh tuples" if self.pool_tuples == 0 else f"pool {self.pool_tuples:,}")
        return ", ".join(parts)

    @property
    def key(self) -> str:
        extra = "" if self.pool_tuples is None else f" pool={self.pool_tuples}"
        return f"{self.implementation} k={self.k} budget={self.budget} adam={self.adam}{extra}"

    def run(self):
        from demos.runner import Run

        params = dict(k=self.k, budget=self.budget, adam=self.adam)
        if self.implementation == "ours":
            return Run(self.key, ours_run, params)
        if self.pool_tuples is not None:
            params["pool_tuples"] = self.pool_tuples
        return Run(self.key, torch_run, params)


STAGES = {
    # the protocol: k = 2, both implementations, until learned or 2,500 iterations, 10 seeds each
    "protocol": [Group("ours", 2, 2_500, 10), Group("torch", 2, 2_500, 10)],
    # one component swapped at a time (run where the protocol's rates differ, or to show a component matters)
    "ablation": [Group("ours", 2, 2_500, 10, adam="torch"), Group("torch", 2, 2_500, 10, adam="torch"),
                 Group("torch", 2, 2_500, 10, pool_tuples=0)],
    # paper scale: the authors' 20,000 iterations, a run stopping once learned
    "paper": [Group("ours", 2, 20_000, 10), Group("torch", 2, 20_000, 10), Group("ours", 3, 20_000, 5),
              Group("torch", 3, 20_000, 3)],
}


# --- judging ------------------------------------------------------------------------------------------

def learned_within(result: dict, iterations: int, consecutive: int = CONSECUTIVE, eval_every: int = 100) -> bool:
    """Whether the run's learned streak was complete by ``iterations``."""
    return 0 <= result["learned_at"] and result["learned_at"] + (consecutive - 1) * eval_every <= iterations


def rate_row(group: Group, results: dict[int, dict]) -> dict:
    """The learn rate of one group over the seeds that have finished (``results[seed]``)."""
    learned = {seed: r["learned_at"] for seed, r in sorted(results.items()) if learned_within(r, group.budget)}
    return dict(group=group, seeds=sorted(results), learned=learned, n=len(results), m=len(learned))


def fisher(a: dict, b: dict) -> float:
    """Two-sided Fisher's exact p-value that two groups' learn rates are the same."""
    from scipy.stats import fisher_exact

    return float(fisher_exact([[a["m"], a["n"] - a["m"]], [b["m"], b["n"] - b["m"]]])[1])


def wilson(m: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a rate m/n (scipy's ``binomtest``); (0, 1) when nothing finished."""
    if n == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest

    interval = binomtest(m, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(interval.low), float(interval.high)
