"""What every demo shares: claims with measured values, a result judged over seeds, the figure helpers,
progress bars, and the command line (``run_demo`` runs a demo's plan through ``demos.runner``).

A demo module defines ``Settings`` with ``PAPER`` and ``QUICK``, and three functions:
- ``plan(settings) -> list[Run]``: the independent runs (the same for every seed);
- ``judge(settings, runs, seed) -> DemoResult``: one seed's claims, notes and tables from its runs'
  results (``runs[key]``);
- ``figures(settings, results, out) -> list[Path]``: the figures from every seed's results
  (``results[seed][key]``), median curves with min-max bands when there are several seeds.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # demos write PNGs; they never open windows


@dataclass
class Claim:
    """One row of a report: what the paper says, what we measured, and whether it held."""

    claim: str
    paper: str
    measured: str
    held: bool
    held_in: int = 1     # seeds in which it held ...
    seeds: int = 1       # ... of this many; it counts as held only if it held in every seed
    counted: bool = True  # False: a remark where we measure something else than the paper (never "held")
    failed_seeds: tuple[int, ...] = ()  # the seeds in which a counted claim did not hold (several seeds)

    @property
    def verdict(self) -> str:
        if not self.counted:
            return "differs from the paper (not counted)"
        if self.seeds == 1:
            return "held" if self.held else "NOT held"
        if self.held:
            return f"held in {self.held_in}/{self.seeds} seeds"
        return (f"NOT held (held in {self.held_in}/{self.seeds} seeds; not in seed"
                f"{'s' if len(self.failed_seeds) > 1 else ''} {', '.join(map(str, self.failed_seeds))})")


@dataclass
class DemoResult:
    name: str
    title: str
    claims: list[Claim] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # extra markdown tables, rendered after the notes
    seconds: float = 0.0  # wall time of the command that made it
    # the plan's runs: how many were "computed" and how many "cached", and "run_seconds", the seconds
    # every one of them took when it was computed (from the cache's records); see runner.execute
    runs: dict[str, float] = field(default_factory=dict)

    def check(self, claim: str, paper: str, measured: str, held: bool) -> bool:
        self.claims.append(Claim(claim, paper, measured, bool(held)))
        return bool(held)

    def remark(self, claim: str, paper: str, measured: str) -> None:
        """A row for a claim of the paper that we measure differently: reported, never counted as held."""
        self.claims.append(Claim(claim, paper, measured, False, 0, 1, counted=False))

    @property
    def counted(self) -> list[Claim]:
        return [c for c in self.claims if c.counted]

    @property
    def all_held(self) -> bool:
        return all(c.held for c in self.counted)

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", f"Ran in {self.seconds:.1f} s.", "",
                 "| claim | paper | measured | held? |", "| --- | --- | --- | --- |"]
        for c in self.claims:  # a "|" inside a cell (as in G^2/|H|) would split it: escaped
            cells = [str(text).replace("|", "\\|") for text in (c.claim, c.paper, c.measured, c.verdict)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        lines += [f"- {note}" for note in self.notes]
        for table in self.tables:
            lines += ["", table, ""]
        lines += [f"![{p.stem}]({p.name})" for p in self.figures]
        return "\n".join(lines) + "\n"


def save_figure(fig, path: Path, dpi: int = 90, rect: tuple[float, float, float, float] | None = None) -> Path:
    """Lay out (the axes inside ``rect`` of the figure, e.g. leaving room for a figure legend), write as
    PNG, close (so long runs do not pile up open figures); return the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


SCALES = ("quick", "medium", "paper")


def progress(iterable: Iterable, desc: str, total: int | None = None, enabled: bool = True):
    """A tqdm progress bar (to stderr), or the bare iterable when disabled (tests)."""
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False, mininterval=0.5)


class _Silent:
    def update(self, n: int = 1) -> None: ...
    def set_postfix_str(self, text: str) -> None: ...
    def close(self) -> None: ...


def progress_bar(total: int, desc: str, enabled: bool = True, initial: int = 0):
    """A manual tqdm bar (``update``, ``set_postfix_str``, ``close``), or one that does nothing."""
    if not enabled:
        return _Silent()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, initial=initial, mininterval=0.5)


def plot_band(ax, x, curves: Sequence[np.ndarray], label: str | None = None, **style):
    """One curve per seed: the curve itself for one seed; the median with a min-max band for several
    (cut to the shortest curve when runs stopped at different lengths; NaN entries left out)."""
    curves = [np.asarray(c, dtype=float) for c in curves]
    n = min(len(c) for c in curves)
    stack, x = np.stack([c[:n] for c in curves]), np.asarray(x)[:n]
    if len(curves) == 1:
        return ax.plot(x, stack[0], label=label, **style)
    # NaN (a run that diverged, from there on) is left out: the median and band of the seeds still running,
    # and nothing where none is
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        middle, low, high = np.nanmedian(stack, axis=0), np.nanmin(stack, axis=0), np.nanmax(stack, axis=0)
    lines = ax.plot(x, middle, label=f"{label} (median of {len(curves)} seeds)" if label else None, **style)
    ax.fill_between(x, low, high, color=lines[0].get_color(), alpha=0.2, lw=0)
    return lines


def merge_seeds(per_seed: dict[int, DemoResult]) -> DemoResult:
    """One result from each seed's: a claim holds only if it held in every seed ("held in 4/5 seeds"), its
    measured value lists each seed's; notes and tables come from the first seed, plus any note another
    seed words differently (prefixed by that seed)."""
    seeds = list(per_seed)
    first = per_seed[seeds[0]]
    if len(seeds) == 1:
        return first
    merged = DemoResult(first.name, first.title, tables=list(first.tables))
    for i, claim in enumerate(first.claims):
        versions = {seed: per_seed[seed].claims[i] for seed in seeds}
        if any(v.claim != claim.claim for v in versions.values()):
            raise ValueError(f"{first.name}: seeds judged different claims at position {i}")
        held_in = sum(v.held for v in versions.values())
        measured = "; ".join(f"seed {seed}: {v.measured}{'' if v.held or not v.counted else ' (NOT held)'}"
                             for seed, v in versions.items())
        failed = tuple(seed for seed, v in versions.items() if not v.held) if claim.counted else ()
        merged.claims.append(Claim(claim.claim, claim.paper, measured, held_in == len(seeds) and claim.counted,
                                   held_in, len(seeds), claim.counted, failed))
    merged.notes = list(first.notes)
    for seed in seeds[1:]:
        merged.notes += [f"seed {seed}: {note}" for note in per_seed[seed].notes if note not in first.notes]
    return merged


def output_directory(value: str) -> Path:
    """``--out``: a directory that exists or can be made, checked while parsing, before any work is done
    (so a path that names a file is a one-line usage error, not a traceback after minutes of training)."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot create directory {value}: {exc.strerror}") from None
    return path


def count_at_least(minimum: int, what: str):
    """An argparse ``type``: an integer >= ``minimum``, else a usage error (exit 2) that says so."""
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}, got {number}")
        return number
    parse.__name__ = what  # argparse names the type in some messages
    return parse


def plain_text(docstring: str) -> str:
    """A docstring's first paragraph as terminal text: one paragraph, reST's ``double backticks`` dropped."""
    paragraph = docstring.strip().split("\n\n")[0]
    return " ".join(re.sub(r"``([^`]*)``", r"\1", paragraph).split())


def standard_parser(description: str, prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=plain_text(description))
    add_run_arguments(parser)
    return parser


MAX_DEFAULT_WORKERS = 8  # a quick plan has ~10 runs a seed: more workers would mostly start and wait


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags every way of running demos shares."""
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="the small plan (minutes): same as --scale quick")
    scale.add_argument("--scale", choices=SCALES, default=None,
                       help="quick, medium (where a demo has one: the end-to-end demo at the paper's batch, "
                            "about an hour a seed on 2 cores) or paper (default)")
    parser.add_argument("--out", type=output_directory, default=Path("results"),
                        help="where figures, report.md and the run cache (runs/) go")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=count_at_least(0, "a seed"), default=None, help="one seed (default 0)")
    seeds.add_argument("--seeds", type=count_at_least(1, "the number of seeds"), default=None, metavar="N",
                       help="seeds 0..N-1; claims judged in each")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=count_at_least(1, "the number of workers"), default=None, metavar="N",
                       help="run the runs on a Dask LocalCluster of N single-threaded processes (default: one "
                            f"a core, at most {MAX_DEFAULT_WORKERS}, where Dask is installed and there are 2 or "
                            "more cores)")
    where.add_argument("--in-process", action="store_true",
                       help="run the runs in this process, one after another (the default without Dask or "
                            "with one core)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run the runs on an existing Dask cluster (e.g. tcp://127.0.0.1:8786)")
    parser.add_argument("--fresh", action="store_true", help="ignore the run cache: recompute every run")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override a field of the demo's settings (repeatable), e.g. --set iterations=3000")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (for logs and CI)")


def default_workers() -> int | None:
    """How many Dask workers a command line without ``--workers``, ``--scheduler`` or ``--in-process`` uses:
    one a usable core (at most ``MAX_DEFAULT_WORKERS``) where Dask is installed and there are 2 or more
    cores, else None (in this process). The runs of a plan are independent and each worker is
    single-threaded, so this keeps every core busy without two thread pools contending for them; and the
    numbers are those of the 30-seed sweep (docs/results/quick_sweep.md), which ran on such workers."""
    from . import runner

    cores = runner.usable_cores()
    if cores < 2 or not runner.dask_installed():
        return None
    return min(cores, MAX_DEFAULT_WORKERS)


def run_options(args: argparse.Namespace) -> dict:
    """``run_demo`` keyword arguments from parsed flags (one seed, 0, unless --seed or --seeds; the runs on
    ``default_workers()`` unless --workers, --scheduler or --in-process say where)."""
    seeds = list(range(args.seeds)) if args.seeds is not None else [args.seed or 0]
    workers = args.workers
    if workers is None and args.scheduler is None and not args.in_process:
        workers = default_workers()
    return dict(scale="quick" if args.quick else (args.scale or "paper"), out=args.out, seeds=seeds,
                fresh=args.fresh, workers=workers,
                scheduler=args.scheduler, overrides=args.overrides, show_progress=not args.no_progress)


def where_runs_go(options: dict) -> str:
    """One line for the terminal: where this command's runs will execute, and how to change it."""
    from . import runner

    if options["scheduler"] is not None:
        return f"runs: on the Dask cluster at {options['scheduler']}"
    if options["workers"] is not None:
        return (f"runs: on a Dask LocalCluster of {options['workers']} single-threaded workers (started once, when "
                "a run is not in the cache; --in-process runs them here)")
    cores = runner.usable_cores()
    if cores > 1 and not runner.dask_installed():
        return (f"runs: in this process, one after another (pip install 'tinygrad_cg[cluster]' to spread them "
                f"over the {cores} cores)")
    return "runs: in this process, one after another"


def scale_settings(module, scale: str):
    """The demo's settings at ``scale`` (its QUICK, MEDIUM or PAPER); ValueError if it has no such plan."""
    if scale not in SCALES or not hasattr(module, scale.upper()):
        available = [name for name in SCALES if hasattr(module, name.upper())]
        raise ValueError(f"{module.__name__.rsplit('.', 1)[-1]} has no {scale!r} plan (it has {available})")
    return getattr(module, scale.upper())


def plan_settings(module, scale: str, overrides: Sequence[str] = ()):
    """The demo's settings at ``scale`` with the ``--set`` assignments applied, and the changes; ValueError
    naming the missing plan, the unknown key or the value that does not parse."""
    from . import runner

    return runner.apply_overrides(scale_settings(module, scale), overrides)


def run_demo(module, quick: bool = False, out: Path = Path("results"), seeds: Sequence[int] = (0,),
             fresh: bool = False, workers: int | None = None, scheduler: str | None = None,
             overrides: Sequence[str] = (), show_progress: bool = True, scale: str | None = None,
             shared=None) -> DemoResult:
    """Run a demo's plan (``demos.runner``: cached, resumable, in-process or on Dask) for every seed, judge
    each seed, merge the verdicts, draw the figures; the wall time is recorded as the report's "Ran in".
    ``scale`` ("quick", "medium", "paper") wins over ``quick``; ``shared`` (a ``runner.SharedCluster``)
    wins over ``workers``."""
    from . import runner

    start = time.perf_counter()
    name = module.__name__.rsplit(".", 1)[-1]
    scale = scale or ("quick" if quick else "paper")
    settings, changes = plan_settings(module, scale, overrides)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    how = runner.Execution(out, fresh=fresh, workers=workers, scheduler=scheduler, show_progress=show_progress,
                           shared=shared)
    results, counts = runner.execute(name, module.plan(settings), settings, seeds, how)
    result = merge_seeds({seed: module.judge(settings, results[seed], seed) for seed in seeds})
    result.figures = module.figures(settings, results, out)
    result.notes.append(f"{scale} plan, seeds {list(seeds)}"
                        + (f", settings changed by --set: {changes}" if changes else "")
                        + f"; {counts['computed']} runs computed, {counts['cached']} taken from {out / 'runs'}")
    result.seconds, result.runs = time.perf_counter() - start, counts
    return result


def write_report(results: list[DemoResult], out: Path) -> Path:
    """``report.md``: each demo's claims next to the measured values."""
    out.mkdir(parents=True, exist_ok=True)
    held = sum(c.held for r in results for c in r.counted)
    total = sum(len(r.counted) for r in results)
    text = ["# tinygrad_cg: reproduction report", "",
            f"{held} of {total} claims held.", ""] + [r.markdown() for r in results]
    path = out / "report.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("\n".join(text))
    tmp.replace(path)
    return path


def run_command(parser: argparse.ArgumentParser, args: argparse.Namespace, modules: dict) -> int:
    """Run ``modules`` ({name: demo module}) as the parsed command line says; the exit status.

    Every user error is a one-line message and exit status 2, before any work where it can be: a bad
    ``--set`` or a plan the demo lacks (checked for every demo first), an unreachable ``--scheduler``.
    After each demo the report is written, so a long run leaves partial results. Exit 0 iff every counted
    claim held, else 1."""
    from . import runner

    options = run_options(args)
    for name, module in modules.items():
        try:
            plan_settings(module, options["scale"], options["overrides"])
        except ValueError as error:
            parser.error(f"{name}: {error}")
    print(where_runs_go(options), file=sys.stderr)
    results = []
    # one LocalCluster for every demo of the command, started when the first run is not in the cache
    shared = runner.SharedCluster(options["workers"]) if options["workers"] is not None else None
    try:
        for name, module in modules.items():
            print(f"== {name} ({plan_time(module, options['scale'])})", file=sys.stderr)
            try:
                results.append(run_demo(module, **options, shared=shared))
            except runner.ClusterError as error:
                parser.exit(2, f"{parser.prog}: error: {error}\n")
            print(results[-1].markdown())
            write_report(results, args.out)
    finally:
        if shared is not None:
            shared.close()
    path = write_report(results, args.out)
    failed = [c.claim for r in results for c in r.counted if not c.held]
    print(f"report: {path}; {'all claims held' if not failed else f'{len(failed)} claim(s) not held'}")
    return 0 if not failed else 1


def plan_time(module, scale: str) -> str:
    """``paper plan, estimated ~20 min a seed on 2 cores; --quick runs the minutes-long plan``: said before a
    run starts, so that nobody starts hours of work unawares."""
    estimate = getattr(module, "PLAN_TIMES", {}).get(scale)
    text = f"{scale} plan" + (f", estimated {estimate} on 2 cores" if estimate else "")
    return text + ("" if scale == "quick" else "; --quick runs the minutes-long plan")


def run_single(module, argv: list[str] | None) -> int:
    """``main(argv)`` of a demo script: parse, run, write its report, exit 0 iff every claim held."""
    if module.__name__ == "__main__" and module.__spec__ is not None:
        # ``python -m demos.parity`` runs the file as __main__: use it under its own name, so that the cache
        # folder and the run identities are the same as ``python -m demos parity``'s, and Dask workers can
        # import the run functions
        module = importlib.import_module(module.__spec__.name)
    name = module.__name__.rsplit(".", 1)[-1]
    parser = standard_parser(module.__doc__, prog=f"python -m demos {name}")
    return run_command(parser, parser.parse_args(argv), {module.__name__.rsplit(".", 1)[-1]: module})
