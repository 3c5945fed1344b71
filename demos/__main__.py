"""``python -m demos <name>|all [--quick] [--out DIR] [--seed S | --seeds N] [--workers N | --scheduler ADDRESS]
[--fresh] [--set KEY=VALUE ...]``: run demos (cached and resumable under DIR/runs), write figures and report.md."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from types import ModuleType

from .common import add_run_arguments, plain_text, run_command

DEMOS = ("parity", "optimizers", "flat_activations", "pwl_conditioning", "e2e_vs_decomposition", "depth")


def available() -> list[str]:
    """The registered demos whose module exists in this copy of the package."""
    return [name for name in DEMOS if (Path(__file__).parent / f"{name}.py").exists()]


def load(name: str) -> ModuleType:
    """A demo's module by its name, imported relative to this package: ``demos.parity`` in a checkout,
    ``tinygrad_cg.demos.parity`` in an installed copy."""
    return importlib.import_module(f".{name}", __package__)


def main(argv: list[str] | None = None, prog: str = "python -m demos") -> int:
    demos = available()
    parser = argparse.ArgumentParser(prog=prog, description=plain_text(__doc__))
    parser.add_argument("name", choices=[*demos, "all"], help="the demo to run, or all of them in turn")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    names = list(demos) if args.name == "all" else [args.name]
    return run_command(parser, args, {name: load(name) for name in names})


if __name__ == "__main__":
    raise SystemExit(main())
