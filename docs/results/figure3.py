"""Figure 3 of the paper, from the run caches of two plans: the paper plan and the medium plan beside it.

Run from the project root once the paper plan's runs (or some of them) are cached:

    python docs/results/figure3.py

Top row, as the paper draws it: held-out tuple accuracy vs training iteration, one panel per k, red end-to-end
(20,000 iterations), blue decomposition (2,500), **one line per seed**: whether end-to-end learns k = 2 is a
matter of the seed (``docs/results/e2e_learn_rates``), so a median would draw a curve no run followed. Each panel
says on how many seeds end-to-end learned (the learn-rate study's rule: 3 evaluations in a row at or above 0.8).
Bottom row: the first 2,500 iterations, the paper plan (thin) over the medium plan (wide and pale: the same
settings, 1,000 iterations for both approaches, ``docs/results/e2e_vs_decomposition``) where the medium plan's
cache matches the current settings (its committed runs used torch's form of Adam, so today they do not and
only the paper plan is drawn). A run still in progress is drawn from its in-run checkpoint (dotted, "so far")
when ``--with-checkpoints`` is given; otherwise only finished runs are drawn. It reads the caches only: it
computes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (str(ROOT), str(ROOT / "docs" / "results" / "crosscheck")):
    if path not in sys.path:
        sys.path.insert(0, path)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from learn_rates import CONSECUTIVE, LEVEL, summarize  # noqa: E402

from demos import e2e_vs_decomposition as demo  # noqa: E402
from demos import runner  # noqa: E402
from demos.common import save_figure  # noqa: E402
from demos.e2e_networks import APPROACHES, COLORS  # noqa: E402

DEMO = "e2e_vs_decomposition"
PLANS = {"paper": (demo.PAPER, ROOT / "docs" / "results" / "e2e_vs_decomposition_paper"),
         "medium": (demo.MEDIUM, ROOT / "docs" / "results" / "e2e_vs_decomposition")}


def load_curves(settings, out: Path, seeds, with_checkpoints: bool) -> dict:
    """``curves[(k, approach)]`` = list of (seed, iterations, accuracy, finished) for the plan's own conv init:
    every finished run, and (``with_checkpoints``) every run in progress as far as its checkpoint goes."""
    cache = runner.ResultCache(out / "runs", DEMO, settings, report=lambda message: None)
    runs = {run.key: run for run in demo.plan(settings)}
    curves = {}
    for k in settings.ks:
        for approach in APPROACHES:
            run, found = runs[demo.train_key(k, approach)], []
            for seed in seeds:
                result = cache.load(run, seed)
                if result is not None:
                    found.append((seed, result["iterations"], result["accuracy"], True))
                elif with_checkpoints and (state := cache.checkpoint(run, seed, 0).load()) is not None:
                    found.append((seed, np.asarray(state["iterations"]), np.asarray(state["accuracy"]), False))
            curves[(k, approach)] = found
    return curves


def draw(curves: dict, ax, style: dict, label: str) -> None:
    """One plan's curves of one approach: each finished seed a line of its own (labelled once), each run in
    progress dotted."""
    finished = [c for c in curves if c[3]]
    for number, (_seed, iterations, accuracy, _) in enumerate(finished):
        ax.plot(iterations, accuracy, label=f"{label} ({len(finished)} seeds)" if number == 0 else None, **style)
    for seed, iterations, accuracy, _ in (c for c in curves if not c[3]):
        ax.plot(iterations, accuracy, ls=":", color=style["color"], lw=1,
                label=f"{label}, seed {seed} so far (to {iterations[-1]:,})")


def learned(curves: list) -> str:
    """"learned m/n (at i, j)" over the finished runs: ``CONSECUTIVE`` evaluations in a row >= ``LEVEL``."""
    finished = [summarize(c[1], c[2], 0.0, int(c[1][-1])) for c in curves if c[3]]
    at = sorted(r["learned_at"] for r in finished if r["learned_at"] >= 0)
    return f"learned {len(at)}/{len(finished)}" + (f" (at {', '.join(f'{i:,}' for i in at)})" if at else "")


def figure(paper: dict, medium: dict, ks, out: Path) -> Path:
    fig, axes = plt.subplots(2, len(ks), figsize=(3.6 * len(ks), 6.2), sharey=True, squeeze=False)
    for column, k in enumerate(ks):
        top, bottom = axes[0, column], axes[1, column]
        for approach in APPROACHES:
            color = COLORS[approach]
            draw(paper[(k, approach)], top, dict(color=color, lw=1, alpha=0.75), f"{approach}, paper plan")
            # the medium plan first, wide and pale, so the paper plan's thin line stays visible on top where
            # the two coincide (same settings and seeds: a seed's first 1,000 iterations are the same run)
            draw(medium.get((k, approach), []), bottom, dict(color=color, lw=5, alpha=0.3),
                 f"{approach}, medium plan")
            draw(paper[(k, approach)], bottom, dict(color=color, lw=1, alpha=0.75), f"{approach}, paper plan")
        top.set_title(f"k = {k}\nend-to-end {learned(paper[(k, 'end-to-end')])}", fontsize=9)
        bottom.set_xlim(0, demo.PAPER.decomposition_iterations)
        for ax in (top, bottom):
            ax.axhline(0.5, color="gray", ls=":", lw=1)
            ax.set_ylim(0.3, 1.0)
            ax.set_xlabel("iteration")
    axes[0, 0].set_ylabel("held-out tuple accuracy\n(paper plan, as Figure 3)")
    axes[1, 0].set_ylabel("held-out tuple accuracy\n(first 2,500 iterations)")
    for ax in (axes[0, 0], axes[1, 0]):
        ax.legend(fontsize=6, loc="lower right")
    fig.suptitle(f"Figure 3, paper plan, one line per seed; learned = {CONSECUTIVE} held-out evaluations in a row "
                 f">= {LEVEL}", fontsize=9)
    out.mkdir(parents=True, exist_ok=True)
    return save_figure(fig, out / "figure3.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 of each plan (default 3)")
    parser.add_argument("--with-checkpoints", action="store_true",
                        help="also draw runs in progress from their in-run checkpoints")
    parser.add_argument("--out", type=Path, default=PLANS["paper"][1], help="where figure3.png goes")
    args = parser.parse_args(argv)
    seeds = range(args.seeds)
    paper = load_curves(*PLANS["paper"], seeds, args.with_checkpoints)
    medium = load_curves(*PLANS["medium"], seeds, False)
    for (k, approach), found in paper.items():
        done = [c[0] for c in found if c[3]]
        print(f"paper plan, k = {k} {approach}: seeds finished {done or 'none'}"
              + "".join(f"; seed {c[0]} at {c[1][-1]:,}" for c in found if not c[3]))
    print(figure(paper, medium, demo.PAPER.ks, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
