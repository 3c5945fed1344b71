"""Section 3's end-to-end threshold as learn rates over seeds, this project vs an independent PyTorch script.

    python docs/results/e2e_learn_rates.py --stage protocol --workers 2
    python docs/results/e2e_learn_rates.py --stage paper --workers 2      # hours; resumable
    python docs/results/e2e_learn_rates.py --report-only                  # redraw from the cache
    python docs/results/e2e_learn_rates.py --adopt-into docs/results/e2e_vs_decomposition_paper --seeds 3

Runs go through the demos' runner (``demos.runner``): a Dask LocalCluster of single-threaded workers, each
finished run cached under ``<out>/runs/e2e_learn_rates/`` and every long run checkpointed there every few
minutes, so an interrupted stage resumes where it stopped (commit that folder to resume on another machine).
The report (``<out>/report.md``) and the figure (``<out>/learn_rates.png``: the share of seeds learned by each
iteration) are drawn from whatever is cached, the runs still in flight listed with the iteration their
checkpoint reached. The runs, the stages and the judging are in ``crosscheck/learn_rates.py``; the PyTorch
transliteration of the authors' ``tuple_rect.py`` is ``crosscheck/tuple_rect_torch.py`` (needs torch).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CROSSCHECK = HERE / "crosscheck"
for path in (str(ROOT), str(CROSSCHECK)):
    if path not in sys.path:
        sys.path.insert(0, path)
# the Dask workers import the run functions by module name: they inherit this
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(CROSSCHECK), os.environ.get("PYTHONPATH", "")]).rstrip(
    os.pathsep)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import learn_rates as study  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from demos import runner  # noqa: E402

DEMO = "e2e_learn_rates"
DEMO_PAPER = "e2e_vs_decomposition"  # the demo whose paper plan draws Figure 3
DEFAULT_OUT = HERE / "e2e_learn_rates"
SETTINGS = study.RateSettings()


def cache(out: Path) -> runner.ResultCache:
    return runner.ResultCache(out / "runs", DEMO, SETTINGS, report=lambda message: print(message, file=sys.stderr))


def run_stage(stage: str, out: Path, workers: int) -> None:
    """Every missing run of a stage, on one LocalCluster (groups with the same number of seeds together). On a
    cluster the groups of different seed counts are submitted at once, each from its own thread, so that no
    worker idles while one group's last runs finish (paper: 5 runs of ours at k = 3 beside 3 of the
    cross-check's); in this process they run one group after another."""
    groups = study.STAGES[stage]
    cluster = runner.local_cluster(workers) if workers else None
    how = runner.Execution(out=out, scheduler=cluster.scheduler_address if cluster else None,
                           checkpoint_seconds=300.0)

    def run_group(seeds: int) -> None:
        plan = [g.run() for g in groups if g.seeds == seeds]
        started = time.time()
        _, counts = runner.execute(DEMO, plan, SETTINGS, range(seeds), how)
        print(f"{stage}: {[run.key for run in plan]} on seeds 0..{seeds - 1}: {counts['computed']} computed, "
              f"{counts['cached']} cached, {time.time() - started:.0f} s", file=sys.stderr)

    seed_counts = sorted({g.seeds for g in groups}, reverse=True)
    try:
        if cluster is None:
            for seeds in seed_counts:
                run_group(seeds)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max(1, len(seed_counts))) as pool:
                for future in [pool.submit(run_group, seeds) for seeds in seed_counts]:
                    future.result()
    finally:
        if cluster is not None:
            cluster.close()


def adopt(out: Path, paper_out: Path, seeds: int, paper=None) -> list[str]:
    """Store the runs of ours at paper scale that ran the whole budget as the paper plan's own end-to-end runs.

    ``learn_rates.ours_run`` calls the demo's ``train`` with the paper plan's settings, seed, weights, batches
    and held-out tuples (``tests/test_learn_rates.py`` checks the two curves equal to the bit); it only stops
    once learned. A run that did not stop early is therefore the paper plan's run of that seed, and Figure 3
    need not compute it again (seeds 0-2: five runs at k = 2 and 3, ~4.2 h of one core). A run that stopped
    early is left for the paper plan to compute. Each adopted result says where it came from
    (``computed_as``). Returns one line per (k, seed)."""
    from demos import e2e_vs_decomposition as demo

    paper = paper or demo.PAPER
    target = runner.ResultCache(paper_out / "runs", DEMO_PAPER, paper, report=lambda m: print(m, file=sys.stderr))
    plan = {run.key: run for run in demo.plan(paper)}
    store, lines = cache(out), []
    for group in study.STAGES["paper"]:
        if group.implementation != "ours" or not study.same_training(study.ours_plan(SETTINGS, group.budget,
                                                                                      group.adam), paper):
            continue  # not the paper plan's training (another budget, Adam form or evaluation)
        paper_run = plan.get(demo.train_key(group.k, "end-to-end"))
        for seed in range(min(seeds, group.seeds)) if paper_run else ():
            where = f"k = {group.k}, seed {seed}"
            result = store.load(group.run(), seed)
            if target.load(paper_run, seed) is not None:
                lines.append(f"{where}: the paper plan has it already")
            elif result is None:
                lines.append(f"{where}: not finished in the study")
            elif result["last_iteration"] < paper.iterations:
                lines.append(f"{where}: stopped once learned at {result['last_iteration']:,}; the paper plan "
                             "computes it")
            else:
                adopted = dict(iterations=result["iterations"], accuracy=result["accuracy"],
                               step_seconds=result["step_seconds"],
                               computed_as=f"docs/results/e2e_learn_rates.py, paper stage, {group.key}, seed {seed}")
                target.save(paper_run, seed, adopted, store.recorded_seconds(group.run(), seed))
                lines.append(f"{where}: adopted (ran all {paper.iterations:,} iterations)")
    return lines


def collect(out: Path) -> tuple[dict, dict]:
    """The finished results of every group of every stage, and the in-flight checkpoints' progress."""
    results, in_flight, store = {}, {}, cache(out)
    for stage, groups in study.STAGES.items():
        for group in groups:
            run = group.run()
            finished, progress = {}, {}
            for seed in range(group.seeds):
                result = store.load(run, seed)
                if result is not None:
                    finished[seed] = result
                    continue
                state = runner.Checkpoint(store.checkpoint(run, seed, 0).path).load()
                if state is not None:
                    steps = state.get("iterations", state.get("steps"))
                    progress[seed] = (int(np.asarray(steps)[-1]), float(np.asarray(state["accuracy"]).max()))
            results[stage, group] = finished
            in_flight[stage, group] = progress
    return results, in_flight


def rate_text(row: dict) -> str:
    """``**m/n** (interval)`` over the finished seeds, and how many of the planned seeds are not finished."""
    if row["n"] == 0:
        return "not run"
    low, high = study.wilson(row["m"], row["n"])
    missing = row["group"].seeds - row["n"]
    return f"**{row['m']}/{row['n']}** ({low:.2f}-{high:.2f})" + (f"; {missing} seeds not finished" if missing else "")


def report(out: Path) -> str:
    results, in_flight = collect(out)
    lines = ["# End-to-end learn rates over seeds (paper Section 3): this project vs the PyTorch cross-check", "",
             f"A run trains end-to-end (the authors' settings) until {study.CONSECUTIVE} evaluations in a row are "
             f"at or above {study.LEVEL} on {SETTINGS.test_tuples:,} held-out tuples, evaluated every "
             f"{SETTINGS.eval_every} iterations, or its budget is spent; 'learned at' is the first evaluation of "
             "that streak. Rates with their 95% Wilson interval; Fisher's exact test compares two rows. "
             "Drawn by `python docs/results/e2e_learn_rates.py --report-only`.", ""]
    rows = {}
    for (stage, group), finished in results.items():
        rows[stage, group] = study.rate_row(group, finished)
    lines += ["| stage | k | budget | implementation | learned | learned at (seed: iteration) | median "
              "learned at | runs in flight (seed: iteration reached) | steps (s, median) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (stage, group), row in rows.items():
        finished = results[stage, group]
        learned = ", ".join(f"{s}: {at:,}" for s, at in row["learned"].items()) or "-"
        median = f"{np.median(list(row['learned'].values())):,.0f}" if row["learned"] else "-"
        flight = ", ".join(f"{s}: {it:,}" for s, (it, _) in sorted(in_flight[stage, group].items())) or "-"
        seconds = f"{np.median([r['step_seconds'] for r in finished.values()]):,.0f}" if finished else "-"
        lines.append(f"| {stage} | {group.k} | {group.budget:,} | {group.label} | {rate_text(row)} | {learned} | "
                     f"{median} | {flight} | {seconds} |")
    comparisons = []
    for stage, groups in study.STAGES.items():
        for i, a in enumerate(groups):
            for b in groups[i + 1:]:
                if a.k == b.k and a.budget == b.budget and rows[stage, a]["n"] and rows[stage, b]["n"]:
                    comparisons.append((a, b, study.fisher(rows[stage, a], rows[stage, b]), stage))
    protocol = study.STAGES["protocol"]
    for variant in study.STAGES["ablation"]:
        base = next(g for g in protocol if g.implementation == variant.implementation and g.k == variant.k)
        if rows["protocol", base]["n"] and rows["ablation", variant]["n"]:
            comparisons.append((base, variant, study.fisher(rows["protocol", base], rows["ablation", variant]),
                                "protocol vs ablation"))
    if comparisons:
        lines += ["", "| compared | k, budget | rates | Fisher's exact p (two-sided) |", "| --- | --- | --- | --- |"]
        for a, b, p, stage in comparisons:
            ra = next(r for (s, g), r in rows.items() if g == a)
            rb = next(r for (s, g), r in rows.items() if g == b)
            lines.append(f"| {a.label} vs {b.label} ({stage}) | {a.k}, {a.budget:,} | {ra['m']}/{ra['n']} vs "
                         f"{rb['m']}/{rb['n']} | {p:.3f} |")
    text = "\n".join(lines) + "\n"
    (out / "report.md").parent.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(text)
    plot(results, out)
    return text


def plot(results: dict, out: Path) -> Path:
    """The share of seeds learned by each iteration, one panel per (k, budget), one line per group."""
    panels = sorted({(g.k, g.budget) for (_, g), finished in results.items() if finished}) or [(2, 2_500)]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    styles = {"ours": "-", "torch": "--"}
    for ax, (k, budget) in zip(axes[0], panels, strict=True):
        for (stage, group), finished in results.items():
            if (group.k, group.budget) != (k, budget) or not finished:
                continue
            grid = np.arange(0, budget + 1, SETTINGS.eval_every)
            share = [np.mean([study.learned_within(r, t) for r in finished.values()]) for t in grid]
            ax.step(grid, share, where="post", ls=styles[group.implementation], lw=2 if stage != "ablation" else 1,
                    alpha=1 if stage != "ablation" else 0.7, label=f"{group.label} (n = {len(finished)})")
        ax.set_title(f"k = {k}, budget {budget:,} iterations")
        ax.set_xlabel("iteration")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    axes[0, 0].set_ylabel(f"share of seeds learned by then\n({study.CONSECUTIVE} evaluations in a row >= "
                          f"{study.LEVEL})")
    fig.tight_layout()
    path = out / "learn_rates.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python docs/results/e2e_learn_rates.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", action="append", choices=list(study.STAGES), default=[],
                        help="the runs to compute (repeatable): protocol (k = 2, 2,500 iterations), ablation "
                             "(one component swapped), paper (20,000 iterations, k = 2 and 3)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (0: in this process)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the folder of the cache and the report")
    parser.add_argument("--report-only", action="store_true", help="compute nothing; draw from the cache")
    parser.add_argument("--adopt-into", type=Path, default=None, metavar="PAPER_OUT",
                        help="store ours' paper-stage runs that ran the whole budget as the paper plan's own "
                             "end-to-end runs under PAPER_OUT (the --out of python -m demos e2e_vs_decomposition), "
                             "seeds 0..--seeds-1, then stop")
    parser.add_argument("--seeds", type=int, default=3, help="with --adopt-into: how many seeds (default 3)")
    args = parser.parse_args(argv)
    if args.adopt_into is not None:
        print("\n".join(adopt(args.out, args.adopt_into, args.seeds)))
        return 0
    if not args.report_only:
        for stage in args.stage:
            run_stage(stage, args.out, args.workers)
    print(report(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
