"""``python -m demos <name>|all [--quick] [--out DIR] [--seed S | --seeds N] [--workers N | --scheduler ADDRESS]
[--fresh] [--set KEY=VALUE ...]``: run demos (cached and resumable under DIR/runs), write figures and report.md."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from demos.common import add_run_arguments, run_demo, run_options, write_report

DEMOS = {
    "parity": "demos.parity",
    "optimizers": "demos.optimizers",
    "flat_activations": "demos.flat_activations",
    "pwl_conditioning": "demos.pwl_conditioning",
    "e2e_vs_decomposition": "demos.e2e_vs_decomposition",
}


def available() -> dict[str, str]:
    """The registered demos whose module exists in this checkout."""
    found = {}
    for name, module in DEMOS.items():
        if (Path(__file__).parent / f"{module.split('.')[-1]}.py").exists():
            found[name] = module
    return found


def main(argv: list[str] | None = None) -> int:
    demos = available()
    parser = argparse.ArgumentParser(prog="python -m demos", description=__doc__)
    parser.add_argument("name", choices=[*demos, "all"])
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    options = run_options(args)
    names = list(demos) if args.name == "all" else [args.name]
    results = []
    for name in names:
        print(f"== {name} ({options['scale']} plan)", file=sys.stderr)
        try:
            result = run_demo(importlib.import_module(demos[name]), **options)
        except ValueError as error:  # a bad --set: the runner says which key or value
            parser.error(f"{name}: {error}")
        results.append(result)
        print(result.markdown())
        write_report(results, args.out)  # after each demo, so a long run leaves partial results
    path = write_report(results, args.out)
    failed = [c.claim for r in results for c in r.counted if not c.held]
    print(f"report: {path}; {'all claims held' if not failed else f'{len(failed)} claim(s) not held'}")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
