"""What every demo shares: claims with measured values, a result, the figure helpers, progress bars."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # demos write PNGs; they never open windows


@dataclass
class Claim:
    """One row of a report: what the paper says, what we measured, and whether it held."""

    claim: str
    paper: str
    measured: str
    held: bool


@dataclass
class DemoResult:
    name: str
    title: str
    claims: list[Claim] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)  # extra markdown tables, rendered after the notes
    seconds: float = 0.0

    def check(self, claim: str, paper: str, measured: str, held: bool) -> bool:
        self.claims.append(Claim(claim, paper, measured, bool(held)))
        return bool(held)

    @property
    def all_held(self) -> bool:
        return all(c.held for c in self.claims)

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", f"Ran in {self.seconds:.1f} s.", "",
                 "| claim | paper | measured | held? |", "| --- | --- | --- | --- |"]
        for c in self.claims:
            lines.append(f"| {c.claim} | {c.paper} | {c.measured} | {'held' if c.held else 'NOT held'} |")
        lines.append("")
        lines += [f"- {note}" for note in self.notes]
        for table in self.tables:
            lines += ["", table, ""]
        lines += [f"![{p.stem}]({p.name})" for p in self.figures]
        return "\n".join(lines) + "\n"


def save_figure(fig, path: Path, dpi: int = 90) -> Path:
    """Lay out, write as PNG, close (so long runs do not pile up open figures); return the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def progress(iterable: Iterable, desc: str, total: int | None = None, enabled: bool = True):
    """A tqdm progress bar (to stderr), or the bare iterable when disabled (tests)."""
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False, mininterval=0.5)


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


def standard_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="the small plan (minutes) instead of paper scale")
    parser.add_argument("--out", type=output_directory, default=Path("results"),
                        help="where figures and report.md go")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    return parser


def write_report(results: list[DemoResult], out: Path) -> Path:
    """``report.md``: each demo's claims next to the measured values."""
    out.mkdir(parents=True, exist_ok=True)
    held = sum(c.held for r in results for c in r.claims)
    total = sum(len(r.claims) for r in results)
    text = ["# tinygrad_cg: reproduction report", "",
            f"{held} of {total} claims held.", ""] + [r.markdown() for r in results]
    path = out / "report.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("\n".join(text))
    tmp.replace(path)
    return path


def timed_run(module, **kwargs) -> DemoResult:
    """``module.run(**kwargs)``, with its wall time recorded in the result (the report's "Ran in")."""
    start = time.perf_counter()
    result = module.run(**kwargs)
    result.seconds = time.perf_counter() - start
    return result


def run_single(module, argv: list[str] | None) -> int:
    """``main(argv)`` of a demo script: parse, run, write its report, exit 0 iff every claim held."""
    args = standard_parser(module.__doc__.splitlines()[0]).parse_args(argv)
    result = timed_run(module, quick=args.quick, out=args.out, seed=args.seed, show_progress=not args.no_progress)
    path = write_report([result], args.out)
    print(result.markdown())
    print(f"report: {path}")
    return 0 if result.all_held else 1
