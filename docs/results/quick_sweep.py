"""Every demo's quick plan on many seeds: in how many seeds each counted claim held.

Run from the project root (the default is the recorded sweep):

    python docs/results/quick_sweep.py --seeds 30 --workers 2 --out quick-sweep

It runs each demo's quick plan on seeds 0..N-1 through the demos' own runner (cached and resumable under
``--out``: an interrupted sweep continues where it stopped, and runs already there are not computed again),
judges every seed, and writes ``docs/results/quick_sweep.md``: per counted claim, the seeds it held in and
the seeds it failed in, and per demo the wall time of this command, the runs it computed or took from the
cache, and the seconds those runs took when they were computed (one core each). The figures and
``report.md`` (every seed's measured values) go under ``--out``, as ``python -m demos all`` writes them
(the same cache: a sweep and ``python -m demos all --quick --seeds N --out DIR`` serve each other).
Exit status 0 iff every counted claim held in every seed.
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


def sweep_markdown(results: list[common.DemoResult], seeds: list[int], command: str, started: str,
                   seconds: float, workers: int | None, left_out: Sequence[str] = ()) -> str:
    """The sweep's table: one row per counted claim, then one row per demo with its times; ``left_out``
    names the demos this sweep did not run."""
    counted = [(r, c) for r in results for c in r.counted]
    held = sum(c.held for _, c in counted)
    lines = ["# Every quick claim on many seeds", "",
             f"`{command}` (started {started}, {seconds / 60:.1f} min wall time, "
             f"{f'{workers} Dask workers' if workers else 'in one process'}; {cpu_name()}, {cores()} cores).", "",
             f"Seeds {seeds[0]}..{seeds[-1]}: **{held} of {len(counted)} counted claims held in every seed**. "
             "A claim counts as held only if it held in each seed; the measured values of every seed are in each "
             "demo's `report.md` under the sweep's output folder."
             + (f" **Not in this sweep: {', '.join(left_out)}.**" if left_out else ""), "",
             "| demo | claim | held in | not held in seeds |", "| --- | --- | --- | --- |"]
    for result, claim in counted:
        cells = [result.name, claim.claim, f"{claim.held_in}/{claim.seeds}",
                 ", ".join(map(str, claim.failed_seeds)) or "-"]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "| demo | wall time of this command | runs computed / from the cache | seconds of all its runs "
              "as computed (one core each) |", "| --- | --- | --- | --- |"]
    for r in results:
        lines.append(f"| {r.name} | {r.seconds:.0f} s | {r.runs['computed']:.0f} / {r.runs['cached']:.0f} | "
                     f"{r.runs['run_seconds']:.0f} s |")
    total = sum(r.runs["run_seconds"] for r in results)
    lines += ["", f"All runs together took {total / 3600:.2f} h of one core when computed "
              f"({total / len(seeds):.0f} s a seed).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=common.count_at_least(1, "the number of seeds"), default=30)
    parser.add_argument("--workers", type=common.count_at_least(0, "the number of workers"), default=2,
                        help="Dask workers (a LocalCluster); 0: in this process, one run after another")
    parser.add_argument("--out", type=common.output_directory, default=Path("quick-sweep"))
    parser.add_argument("--demos", nargs="+", choices=demos_main.available(), default=demos_main.available())
    parser.add_argument("--table", type=Path, default=TABLE, help="where the markdown table goes")
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    started, start = datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), time.perf_counter()
    results = []
    for name in args.demos:
        print(f"== {name}: quick plan, seeds 0..{args.seeds - 1}", file=sys.stderr, flush=True)
        results.append(common.run_demo(demos_main.load(name), quick=True, out=args.out, seeds=seeds,
                                       workers=args.workers or None, show_progress=False))
        common.write_report(results, args.out)  # after each demo: an interrupted sweep leaves its report
    command = "python docs/results/quick_sweep.py " + " ".join(argv if argv is not None else sys.argv[1:])
    left_out = [name for name in demos_main.available() if name not in args.demos]
    text = sweep_markdown(results, seeds, command.strip(), started, time.perf_counter() - start, args.workers,
                          left_out)
    io.atomic_write(args.table, lambda handle: handle.write(text.encode()))
    failed = [c for r in results for c in r.counted if not c.held]
    print(f"{args.table}: {'every counted claim held in every seed' if not failed else f'{len(failed)} not held'}")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
