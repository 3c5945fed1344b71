"""Every demo's quick plan on many seeds: in how many seeds each counted claim held.

Run from the project root (the default is the recorded sweep):

    python docs/results/quick_sweep.py --seeds 30 --workers 2 --out quick-sweep

It runs each demo's quick plan on seeds 0..N-1 through the demos' own runner (cached and resumable under
``--out``: an interrupted sweep continues where it stopped, and runs already there are not computed again),
judges every seed, and writes ``docs/results/quick_sweep.md``: per counted claim, the seeds it held in and
the seeds it failed in, and per demo the wall time of this command, the runs it computed or took from the
cache, and the seconds those runs took when they were computed (one core each). ``--cached-only`` computes
nothing and judges, for each demo, only the seeds whose runs are all cached (a sweep still in progress). The figures and
``report.md`` (every seed's measured values) go under ``--out``, as ``python -m demos all`` writes them
(the same cache: a sweep and ``python -m demos all --quick --seeds N --out DIR`` serve each other).
Exit status 0 iff every demo asked for was judged on every seed and each of its counted claims held there.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from demos import __main__ as demos_main  # noqa: E402
from demos import common  # noqa: E402
from tinygrad_cg import io  # noqa: E402

TABLE = ROOT / "docs" / "results" / "quick_sweep.md"


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_name() -> str:
    """The CPU's model name (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def seed_span(seeds: Sequence[int]) -> str:
    """"0..29" for a run of consecutive seeds, else the list."""
    seeds = sorted(seeds)
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}..{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    return ", ".join(map(str, seeds))


def sweep_markdown(results: list[common.DemoResult], judged: dict[str, list[int]], seeds: list[int], command: str,
                   started: str, seconds: float, workers: int | None, left_out: Sequence[str] = ()) -> str:
    """The sweep's table: one row per counted claim, then one row per demo with its seeds and times.
    ``judged[demo]`` are the seeds judged (all of ``seeds`` unless --cached-only found some incomplete);
    ``left_out`` names the demos this sweep did not judge at all."""
    counted = [(r, c) for r in results for c in r.counted]
    held = sum(c.held for _, c in counted)
    partial = {r.name: judged[r.name] for r in results if judged[r.name] != seeds}
    lines = ["# Every quick claim on many seeds", "",
             f"`{command}` (started {started}, {seconds / 60:.1f} min wall time, "
             f"{f'{workers} Dask workers' if workers else 'in one process'}; {cpu_name()}, {cores()} cores).", "",
             f"Seeds {seed_span(seeds)}: **{held} of {len(counted)} counted claims held in every seed judged**. "
             "A claim counts as held only if it held in each seed; the measured values of every seed are in the "
             "`report.md` under the sweep's output folder."
             + "".join(f" **{name}: only seeds {seed_span(s)} judged** (the other seeds' runs are not all computed "
                       "yet)." for name, s in partial.items())
             + (f" **Not in this sweep: {', '.join(left_out)}.**" if left_out else ""), "",
             "| demo | claim | held in | not held in seeds |", "| --- | --- | --- | --- |"]
    for result, claim in counted:
        cells = [result.name, claim.claim, f"{claim.held_in}/{claim.seeds}",
                 ", ".join(map(str, claim.failed_seeds)) or "-"]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "| demo | seeds judged | wall time of this command | runs computed / from the cache | seconds of "
              "its runs as computed (one core each) |", "| --- | --- | --- | --- | --- |"]
    for r in results:
        per_seed = r.runs["run_seconds"] / len(judged[r.name])
        lines.append(f"| {r.name} | {seed_span(judged[r.name])} | {r.seconds:.0f} s | {r.runs['computed']:.0f} / "
                     f"{r.runs['cached']:.0f} | {r.runs['run_seconds']:.0f} s ({per_seed:.0f} s a seed) |")
    total = sum(r.runs["run_seconds"] for r in results)
    lines += ["", f"All runs judged here took {total / 3600:.2f} h of one core when they were computed.", ""]
    return "\n".join(lines)


def cached_seeds(module, out: Path, seeds: Sequence[int]) -> list[int]:
    """The seeds whose runs of the demo's quick plan are all in the cache under ``out`` (files present; their
    checksums are verified when they are loaded)."""
    from demos import runner

    settings, _ = common.plan_settings(module, "quick")
    cache = runner.ResultCache(out / "runs", module.__name__.rsplit(".", 1)[-1], settings)
    return [seed for seed in seeds if all(all(p.exists() for p in cache.paths(run, seed))
                                          for run in module.plan(settings))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=common.count_at_least(1, "the number of seeds"), default=30)
    parser.add_argument("--workers", type=common.count_at_least(0, "the number of workers"), default=2,
                        help="Dask workers (a LocalCluster); 0: in this process, one run after another")
    parser.add_argument("--out", type=common.output_directory, default=Path("quick-sweep"))
    parser.add_argument("--demos", nargs="+", choices=demos_main.available(), default=demos_main.available())
    parser.add_argument("--cached-only", action="store_true",
                        help="compute nothing: judge, for each demo, the seeds whose runs are all in the cache")
    parser.add_argument("--table", type=Path, default=TABLE, help="where the markdown table goes")
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    started, start = datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), time.perf_counter()
    results, judged = [], {}
    for name in args.demos:
        module = demos_main.load(name)
        judged[name] = cached_seeds(module, args.out, seeds) if args.cached_only else seeds
        if not judged[name]:
            print(f"== {name}: no seed has all its runs cached; left out", file=sys.stderr, flush=True)
            continue
        print(f"== {name}: quick plan, seeds {seed_span(judged[name])}", file=sys.stderr, flush=True)
        results.append(common.run_demo(module, quick=True, out=args.out, seeds=judged[name],
                                       workers=args.workers or None, show_progress=False))
        common.write_report(results, args.out)  # after each demo: an interrupted sweep leaves its report
    command = "python docs/results/quick_sweep.py " + " ".join(argv if argv is not None else sys.argv[1:])
    left_out = [name for name in demos_main.available() if name not in [r.name for r in results]]
    text = sweep_markdown(results, judged, seeds, command.strip(), started, time.perf_counter() - start,
                          args.workers, left_out)
    io.atomic_write(args.table, lambda handle: handle.write(text.encode()))
    failed = [c for r in results for c in r.counted if not c.held]
    verdict = "every counted claim held in every seed judged" if not failed else f"{len(failed)} not held"
    print(f"{args.table}: {verdict}")
    # 0 only if every demo asked for was judged on every seed and held there
    complete = all(judged[name] == seeds for name in args.demos)
    return 0 if not failed and complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
