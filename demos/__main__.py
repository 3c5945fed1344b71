"""``python -m demos <name>|all [--quick] [--out DIR] [--seed S]``: run demos, write figures and report.md."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from demos.common import output_directory, timed_run, write_report

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
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=output_directory, default=Path("results"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    names = list(demos) if args.name == "all" else [args.name]
    results = []
    for name in names:
        print(f"== {name} ({'quick' if args.quick else 'paper scale'})", file=sys.stderr)
        module = importlib.import_module(demos[name])
        result = timed_run(module, quick=args.quick, out=args.out, seed=args.seed,
                           show_progress=not args.no_progress)
        results.append(result)
        print(result.markdown())
        write_report(results, args.out)  # after each demo, so a long run leaves partial results
    path = write_report(results, args.out)
    failed = [c.claim for r in results for c in r.claims if not c.held]
    print(f"report: {path}; {'all claims held' if not failed else f'{len(failed)} claim(s) not held'}")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
