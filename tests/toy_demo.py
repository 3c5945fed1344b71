"""A tiny demo for the runner's tests: two quick runs and one slow run that checkpoints every step."""

import time
from dataclasses import dataclass
from pathlib import Path

from demos.common import DemoResult
from demos.runner import NO_CHECKPOINT, Checkpoint, Run, run_rng


@dataclass
class Settings:
    steps: int = 30
    pause: float = 0.1          # seconds per step of the slow run
    scale: tuple = (1.0, 2.0)


PAPER = QUICK = Settings()


def quick_run(settings: Settings, seed: int, which: int) -> dict:
    rng = run_rng(seed, which)
    return {"values": rng.normal(size=4) * settings.scale[which], "nested": {"seed": seed, "which": which}}


def slow_run(settings: Settings, seed: int, checkpoint: Checkpoint = NO_CHECKPOINT) -> dict:
    """A random walk of ``steps`` steps; resumes from its checkpoint (and says from which step)."""
    rng, total, first = run_rng(seed, 9), 0.0, 0
    if (state := checkpoint.load()) is not None:
        rng.bit_generator.state, total, first = state["rng"], state["total"], state["step"] + 1
    for step in range(first, settings.steps):
        total += float(rng.normal())
        time.sleep(settings.pause)
        checkpoint.maybe_save(lambda step=step, total=total: {"rng": rng.bit_generator.state, "total": total,
                                                              "step": step})
    return {"total": total, "resumed_from": first}


def plan(settings: Settings) -> list[Run]:
    return [Run("quick 0", quick_run, {"which": 0}), Run("quick 1", quick_run, {"which": 1}), Run("slow", slow_run)]


def judge(settings: Settings, runs: dict, seed: int) -> DemoResult:
    result = DemoResult("toy_demo", "Toy")
    first = runs["quick 0"]["values"][0]
    result.check("the first value is positive", "-", f"{first:.3f}", first > 0)
    return result


def figures(settings: Settings, results: dict, out: Path) -> list[Path]:
    return []
