"""Every demo's quick plan on many seeds: in how many seeds each counted claim held.

Run from the project root; the recorded sweep (whose end-to-end run cache is committed there, so this resumes it):

    python docs/results/quick_sweep.py --seeds 30 --workers 2 --out docs/results/quick_sweep

It runs each demo's quick plan on seeds 0..N-1 through the demos' own runner (cached and resumable under
``--out``: an interrupted sweep continues where it stopped, and runs already there are not computed again),
judges every seed, and records per demo: each counted claim with the seeds it held in and those it failed in,
the command, date, wall time and machine, the runs computed or taken from the cache, and the seconds those
runs took when they were computed (one core each). The records live in ``docs/results/quick_sweep.json``; a
sweep replaces the records of the demos it ran and keeps the others, and ``quick_sweep.md`` is drawn from
all of them (so a sweep may run one demo at a time, on different days). The figures and ``report.md`` (every
seed's measured values) go under ``--out``, as ``python -m demos all`` writes them (the same cache: a sweep
and ``python -m demos all --quick --seeds N --out DIR`` serve each other).

``--cached-only`` computes nothing and judges, for each demo, only the seeds whose runs are all cached (a
sweep still in progress). Exit status 0 iff every demo asked for was judged on every seed and each of its
counted claims held there.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from demos import __main__ as demos_main  # noqa: E402
from demos import common  # noqa: E402
from tinygrad_cg import io  # noqa: E402

TABLE = ROOT / "docs" / "results" / "quick_sweep.md"


def machine() -> str:
    """The CPU's model name (Linux; else what ``platform`` knows) and the cores this process may use."""
    name = platform.processor() or platform.machine()
    try:
        name = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return f"{name}, {cores} cores"


def seed_span(seeds: Sequence[int]) -> str:
    """"0..29" for consecutive seeds, else the list."""
    seeds = sorted(seeds)
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}..{seeds[-1]}"
    return ", ".join(map(str, seeds))


def record(result: common.DemoResult, judged: list[int], seeds: list[int], command: str, started: str,
           workers: int | None) -> dict:
    """What the table keeps of one demo's sweep (JSON-able)."""
    return {"demo": result.name, "judged": judged, "asked": seeds, "command": command, "started": started,
            "wall_seconds": round(result.seconds, 1), "machine": machine(),
            "where": f"{workers} Dask workers" if workers else "in one process",
            "runs": {key: round(value, 1) for key, value in result.runs.items()},
            "claims": [{"claim": c.claim, "held_in": c.held_in, "seeds": c.seeds, "failed_seeds": list(c.failed_seeds)}
                       for c in result.counted]}


def sweep_markdown(records: list[dict], missing: Sequence[str] = ()) -> str:
    """The table: a summary, one row per counted claim, then one row per demo with how and when it ran;
    ``missing`` names the demos no sweep has judged yet."""
    claims = [(r["demo"], c) for r in records for c in r["claims"]]
    held = sum(c["held_in"] == c["seeds"] for _, c in claims)
    partial = [r for r in records if r["judged"] != r["asked"]]
    lines = ["# Every quick claim on many seeds", "",
             "Made by `docs/results/quick_sweep.py` (its docstring says how to run and resume it). "
             f"**{held} of {len(claims)} counted claims held in every seed judged.** A claim counts as held only "
             "if it held in each seed; every seed's measured values are in the `report.md` the sweep writes."
             + "".join(f" **{r['demo']}: only seeds {seed_span(r['judged'])} of {seed_span(r['asked'])} judged** "
                       "(the other seeds' runs are not all computed yet)." for r in partial)
             + (f" **Not judged yet: {', '.join(missing)}.**" if missing else ""), "",
             "| demo | claim | held in | not held in seeds |", "| --- | --- | --- | --- |"]
    for demo, c in claims:
        cells = [demo, c["claim"], f"{c['held_in']}/{c['seeds']}", ", ".join(map(str, c["failed_seeds"])) or "-"]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "| demo | seeds judged | command | started | wall time | where | runs computed / from the cache "
              "| seconds of its runs as computed (one core each) |", "|" + " --- |" * 8]
    for r in records:
        runs, per_seed = r["runs"], r["runs"]["run_seconds"] / len(r["judged"])
        lines.append(f"| {r['demo']} | {seed_span(r['judged'])} | `{r['command']}` | {r['started']} | "
                     f"{r['wall_seconds'] / 60:.1f} min | {r['where']}; {r['machine']} | {runs['computed']:.0f} / "
                     f"{runs['cached']:.0f} | {runs['run_seconds']:.0f} s ({per_seed:.0f} s a seed) |")
    total = sum(r["runs"]["run_seconds"] for r in records)
    lines += ["", f"The runs judged here took {total / 3600:.2f} h of one core when they were computed. The wall "
              "time of a demo whose runs were mostly cached is the time to judge them, not to compute them.", ""]
    return "\n".join(lines)


def load_records(path: Path) -> dict[str, dict]:
    """The records of earlier sweeps, by demo ({} if there are none yet)."""
    return {r["demo"]: r for r in json.loads(path.read_text())} if path.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=common.count_at_least(1, "the number of seeds"), default=30)
    parser.add_argument("--workers", type=common.count_at_least(0, "the number of workers"), default=2,
                        help="Dask workers (a LocalCluster); 0: in this process, one run after another")
    parser.add_argument("--out", type=common.output_directory, default=Path("quick-sweep"))
    parser.add_argument("--demos", nargs="+", choices=demos_main.available(), default=demos_main.available())
    parser.add_argument("--cached-only", action="store_true",
                        help="compute nothing: judge, for each demo, the seeds whose runs are all in the cache")
    parser.add_argument("--table", type=Path, default=TABLE,
                        help="the markdown table; its records go beside it, as .json")
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    command = "python docs/results/quick_sweep.py " + " ".join(argv if argv is not None else sys.argv[1:])
    records_path = args.table.with_suffix(".json")
    records = load_records(records_path)
    results, judged = [], {}
    for name in args.demos:
        module = demos_main.load(name)
        judged[name] = cached_seeds(module, args.out, seeds) if args.cached_only else seeds
        if not judged[name]:
            print(f"== {name}: no seed has all its runs cached; not judged", file=sys.stderr, flush=True)
            continue
        print(f"== {name}: quick plan, seeds {seed_span(judged[name])}", file=sys.stderr, flush=True)
        started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        results.append(common.run_demo(module, quick=True, out=args.out, seeds=judged[name],
                                       workers=args.workers or None, show_progress=False))
        common.write_report(results, args.out)  # after each demo: an interrupted sweep leaves its report
        records[name] = record(results[-1], judged[name], seeds, command.strip(), started, args.workers)
        kept = json.dumps(list(records.values()), indent=1)
        io.atomic_write(records_path, lambda handle, kept=kept: handle.write(kept.encode()))
    ordered = [records[name] for name in demos_main.available() if name in records]
    missing = [name for name in demos_main.available() if name not in records]
    text = sweep_markdown(ordered, missing)
    io.atomic_write(args.table, lambda handle: handle.write(text.encode()))
    failed = [c for r in results for c in r.counted if not c.held]
    print(f"{args.table}: " + ("every counted claim held in every seed judged" if not failed
                               else f"{len(failed)} claim(s) not held"))
    # 0 only if every demo asked for was judged on every seed and held there
    return 0 if not failed and all(judged[name] == seeds for name in args.demos) else 1


def cached_seeds(module, out: Path, seeds: Sequence[int]) -> list[int]:
    """The seeds whose runs of the demo's quick plan are all in the cache under ``out`` (files present; their
    checksums are verified when they are loaded)."""
    from demos import runner

    settings, _ = common.plan_settings(module, "quick")
    cache = runner.ResultCache(out / "runs", module.__name__.rsplit(".", 1)[-1], settings)
    return [seed for seed in seeds
            if all(path.exists() for run in module.plan(settings) for path in cache.paths(run, seed))]


if __name__ == "__main__":
    raise SystemExit(main())
