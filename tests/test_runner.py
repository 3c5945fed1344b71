"""demos.runner: the result cache, resuming after a kill, checkpoints inside a run, seeds, --set, and Dask."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import toy_demo

from demos import common, runner
from demos import optimizers as optimizers_demo

ROOT = Path(__file__).resolve().parents[1]
FAST = toy_demo.Settings(steps=5, pause=0.0)


def run_toy(out: Path, settings=FAST, seeds=(0,), **how):
    return runner.execute("toy", toy_demo.plan(settings), settings, seeds,
                          runner.Execution(out, show_progress=False, checkpoint_seconds=0, **how))


def tally(counts: dict) -> dict:
    """The run counts without the recorded seconds (which vary)."""
    return {key: counts[key] for key in ("cached", "computed")}


def assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def test_a_second_run_takes_everything_from_the_cache(tmp_path):
    first, counts = run_toy(tmp_path, seeds=(0, 1))
    assert tally(counts) == {"cached": 0, "computed": 6}
    again, counts = run_toy(tmp_path, seeds=(0, 1))
    assert tally(counts) == {"cached": 6, "computed": 0}
    assert_same(first, again)
    record = json.loads(next((tmp_path / "runs" / "toy").glob("quick_0-s0-*.json")).read_text())
    assert record["identity"]["key"] == "quick 0" and record["identity"]["settings"]["steps"] == 5
    assert record["seconds"] >= 0 and len(record["sha256"]) == 64
    _, counts = run_toy(tmp_path, seeds=(0, 1), fresh=True)
    assert tally(counts) == {"cached": 0, "computed": 6}


def test_the_counts_add_up_the_seconds_each_run_took_when_computed(tmp_path):
    _, counts = run_toy(tmp_path, seeds=(0, 1))
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs" / "toy").glob("*.json")]
    assert len(records) == 6 and counts["run_seconds"] == pytest.approx(sum(r["seconds"] for r in records))
    _, again = run_toy(tmp_path, seeds=(0, 1))  # from the cache: the same recorded seconds
    assert again["run_seconds"] == pytest.approx(counts["run_seconds"])


def test_other_settings_or_seeds_are_other_cache_entries(tmp_path):
    run_toy(tmp_path)
    _, counts = run_toy(tmp_path, settings=toy_demo.Settings(steps=5, pause=0.0, scale=(1.0, 3.0)))
    assert tally(counts) == {"cached": 0, "computed": 3}
    _, counts = run_toy(tmp_path, seeds=(0, 2))
    assert tally(counts) == {"cached": 3, "computed": 3}


@pytest.mark.parametrize("damage", ["truncate", "edit data", "edit record", "foreign"])
def test_a_damaged_or_foreign_cache_file_is_reported_and_recomputed(tmp_path, damage):
    good, _ = run_toy(tmp_path, seeds=(0, 1))
    folder = tmp_path / "runs" / "toy"
    data = next(folder.glob("quick_0-s0-*.npz"))
    if damage == "truncate":
        data.write_bytes(data.read_bytes()[:50])
    elif damage == "edit data":
        other = next(folder.glob("quick_1-s0-*.npz"))
        data.write_bytes(other.read_bytes())  # a valid archive, but not the one the checksum names
    elif damage == "edit record":
        record = data.with_suffix(".json")
        record.write_text(record.read_text().replace('"seed": 0', '"seed": 7'))
    else:  # seed 1's files copied over seed 0's
        source = next(folder.glob("quick_0-s1-*.npz"))
        data.write_bytes(source.read_bytes())
        data.with_suffix(".json").write_text(source.with_suffix(".json").read_text())
    messages = []
    again, counts = run_toy(tmp_path, seeds=(0, 1), log=messages.append)
    assert tally(counts) == {"cached": 5, "computed": 1}
    assert len(messages) == 1 and "recomputing 'quick 0'" in messages[0]
    assert_same(good, again)


def test_a_killed_run_resumes_from_its_checkpoint_and_ends_as_an_uninterrupted_one(tmp_path):
    """A subprocess runs the plan; once the quick runs are cached and the slow run has checkpointed a few
    steps, it is killed (SIGKILL). The re-run computes only the slow run, from its checkpoint."""
    settings = toy_demo.Settings(steps=30, pause=0.1)
    script = (f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}]\n"
              "import toy_demo; from demos import runner; from pathlib import Path\n"
              f"s = toy_demo.Settings(steps=30, pause=0.1)\n"
              f"runner.execute('toy', toy_demo.plan(s), s, [0], runner.Execution(Path({str(tmp_path)!r}), "
              "show_progress=False, checkpoint_seconds=0))\n")
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL)
    folder, deadline = tmp_path / "runs" / "toy", time.monotonic() + 60
    while time.monotonic() < deadline:
        checkpoints = list(folder.glob("slow-*.checkpoint.npz"))
        if checkpoints and runner.load_tree(checkpoints[0])["step"] >= 5:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert len(list(folder.glob("quick_*.npz"))) == 2 and not list(folder.glob("slow-s0-*[0-9a-f].npz"))

    resumed, counts = runner.execute("toy", toy_demo.plan(settings), settings, [0],
                                     runner.Execution(tmp_path, show_progress=False, checkpoint_seconds=0))
    assert tally(counts) == {"cached": 2, "computed": 1}
    assert resumed[0]["slow"]["resumed_from"] >= 5
    assert not list(folder.glob("*.checkpoint.npz"))  # removed once the result is cached
    whole, _ = runner.execute("toy", toy_demo.plan(settings), toy_demo.Settings(steps=30, pause=0.0), [0],
                              runner.Execution(tmp_path / "whole", show_progress=False))
    assert resumed[0]["slow"]["total"] == whole[0]["slow"]["total"]
    assert_same(resumed[0]["quick 0"], whole[0]["quick 0"])


def test_e2e_training_continues_from_a_checkpoint_to_the_same_numbers(tmp_path):
    from demos import e2e_vs_decomposition as e2e

    settings = e2e.Settings(ks=(2,), batch=3, decomposition_iterations=6, eval_every=2, test_tuples=10)
    test = e2e.tuple_feed(2, 10, np.random.default_rng(0), with_labels=False)
    whole = e2e.train("decomposition", 2, settings, 0, test, False)
    checkpoint = runner.Checkpoint(tmp_path / "train.checkpoint.npz", every_seconds=0)
    e2e.train("decomposition", 2, e2e.Settings(ks=(2,), batch=3, decomposition_iterations=3, eval_every=2,
                                               test_tuples=10), 0,
              test, False, checkpoint)  # "interrupted" after 3 of the 6 iterations
    assert runner.load_tree(checkpoint.path)["iteration"] == 3
    resumed = e2e.train("decomposition", 2, settings, 0, test, False, checkpoint)
    np.testing.assert_array_equal(resumed["iterations"], whole["iterations"])
    np.testing.assert_array_equal(resumed["accuracy"], whole["accuracy"])


def test_seeds_are_judged_one_by_one_and_counted(tmp_path):
    result = common.run_demo(toy_demo, out=tmp_path, seeds=[0, 1, 2, 3], overrides=["pause=0"], show_progress=False)
    per_seed = [toy_demo.quick_run(FAST, seed, 0)["values"][0] > 0 for seed in range(4)]
    claim = result.claims[0]
    assert (claim.held_in, claim.seeds) == (sum(per_seed), 4) and claim.held == all(per_seed)
    assert f"in {sum(per_seed)}/4 seeds" in result.markdown() and "seed 3:" in claim.measured
    assert claim.failed_seeds == tuple(seed for seed, held in enumerate(per_seed) if not held)
    assert result.runs["computed"] == 4 * len(toy_demo.plan(FAST)) and result.runs["run_seconds"] >= 0


def test_a_claim_not_held_names_the_seeds_where_it_failed():
    def one(held):
        result = common.DemoResult("toy", "Toy")
        result.check("x > 0", "paper", "x", held)
        return result

    merged = common.merge_seeds({seed: one(seed not in (2, 7)) for seed in range(10)})
    assert merged.claims[0].failed_seeds == (2, 7)
    assert merged.claims[0].verdict == "NOT held (held in 8/10 seeds; not in seeds 2, 7)"
    assert common.merge_seeds({0: one(True), 1: one(False)}).claims[0].verdict.endswith("not in seed 1)")


def test_overrides_are_type_checked_applied_and_recorded(tmp_path):
    settings, changes = runner.apply_overrides(toy_demo.Settings(), ["steps=3", "pause=0", "scale=1,5"])
    assert (settings.steps, settings.pause, settings.scale) == (3, 0.0, (1.0, 5.0)) and changes["steps"] == 3
    with pytest.raises(ValueError, match="unknown setting 'stpes'; the settings are: steps, pause, scale"):
        runner.apply_overrides(toy_demo.Settings(), ["stpes=3"])
    with pytest.raises(ValueError, match="steps=three: not a valid int"):
        runner.apply_overrides(toy_demo.Settings(), ["steps=three"])
    with pytest.raises(ValueError, match="expects key=value"):
        runner.apply_overrides(toy_demo.Settings(), ["steps"])
    result = common.run_demo(toy_demo, out=tmp_path, overrides=["steps=2", "pause=0"], show_progress=False)
    assert "--set: {'steps': 2, 'pause': 0.0}" in result.markdown()


def test_bands_are_drawn_for_several_seeds():
    fig, ax = plt.subplots()
    common.plot_band(ax, np.arange(5), [np.arange(5.0), np.arange(5.0) + 1, np.arange(6.0) * 2], label="x")
    assert len(ax.collections) == 1 and "median of 3 seeds" in ax.lines[0].get_label()
    assert len(ax.lines[0].get_xdata()) == 5
    plt.close(fig)


def test_command_line_runs_two_seeds_and_a_bad_set_is_a_usage_error(tmp_path, capsys):
    from demos.__main__ import main

    assert main(["optimizers", "--quick", "--seeds", "2", "--set", "steps=200", "--out", str(tmp_path),
                 "--no-progress"]) in (0, 1)
    report = (tmp_path / "report.md").read_text()
    assert "in 2/2 seeds" in report and "settings changed by --set: {'steps': 200}" in report
    assert len(list((tmp_path / "runs" / "optimizers").glob("*.npz"))) == 2 * len(optimizers_demo.plan(
        optimizers_demo.QUICK))
    with pytest.raises(SystemExit) as exit_:
        main(["optimizers", "--quick", "--set", "nonsense=1", "--out", str(tmp_path)])
    assert exit_.value.code == 2 and "unknown setting 'nonsense'" in capsys.readouterr().err


@pytest.mark.parametrize("flags,message", [
    (["--seeds", "0"], "the number of seeds must be at least 1, got 0"),
    (["--seeds", "-2"], "the number of seeds must be at least 1, got -2"),
    (["--seeds", "two"], "the number of seeds must be a whole number, got 'two'"),
    (["--workers", "0"], "the number of workers must be at least 1, got 0"),
    (["--seed", "-1"], "a seed must be at least 0, got -1"),
    (["--set", "steps"], "--set expects key=value, got 'steps'"),
    (["--set", "steps=many"], "--set steps=many: not a valid int"),
    (["--scale", "medium"], "optimizers has no 'medium' plan"),
])
def test_every_usage_error_exits_2_with_the_usage_line_before_any_work(tmp_path, capsys, flags, message):
    from demos.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(["optimizers", *flags, "--out", str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.startswith("usage: python -m demos") and message in err
    assert "Traceback" not in err and not (tmp_path / "runs").exists() and not (tmp_path / "report.md").exists()


def test_a_demo_script_exits_2_on_a_usage_error_too(capsys):
    with pytest.raises(SystemExit) as exit_:
        optimizers_demo.main(["--seeds", "0"])
    assert exit_.value.code == 2 and "at least 1" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_one_line_naming_the_address(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    from demos.__main__ import main

    with socket.socket() as free:  # a loopback port nobody listens on
        free.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{free.getsockname()[1]}"
    start = time.perf_counter()
    with pytest.raises(SystemExit) as exit_:
        main(["optimizers", "--quick", "--scheduler", address, "--out", str(tmp_path), "--no-progress"])
    assert time.perf_counter() - start < 60  # it gives up after runner.CONNECT_SECONDS, not Dask's 30 s retries
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and "Traceback" not in "\n".join(err)
    assert err[-1].startswith("python -m demos: error: cannot reach a Dask scheduler at") and address in err[-1]


def test_a_local_dask_cluster_gives_the_numbers_of_the_in_process_run(tmp_path):
    pytest.importorskip("dask.distributed")
    settings = optimizers_demo.QUICK
    plan = optimizers_demo.plan(settings)
    local, _ = runner.execute("optimizers", plan, settings, [0, 1],
                              runner.Execution(tmp_path / "local", show_progress=False))
    spread, counts = runner.execute("optimizers", plan, settings, [0, 1],
                                    runner.Execution(tmp_path / "dask", show_progress=False, workers=2))
    assert tally(counts) == {"cached": 0, "computed": 2 * len(plan)}
    assert_same(local, spread)
    in_process = common.run_demo(optimizers_demo, quick=True, out=tmp_path / "local", seeds=[0, 1],
                                 show_progress=False)
    on_dask = common.run_demo(optimizers_demo, quick=True, out=tmp_path / "dask", seeds=[0, 1], show_progress=False)
    assert [c.measured for c in on_dask.claims] == [c.measured for c in in_process.claims]


def test_runs_go_to_an_existing_cluster_by_its_scheduler_address(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster:
        remote, counts = run_toy(tmp_path / "remote", scheduler=cluster.scheduler_address)
    assert tally(counts) == {"cached": 0, "computed": 3}
    here, _ = run_toy(tmp_path / "here")
    assert_same(remote, here)


def test_keys_with_dots_and_spaces_get_one_cache_file_per_run_and_seed(tmp_path):
    def value(settings, seed, which):
        return {"which": which, "seed": seed}

    plan = [runner.Run("1. first (a)", value, {"which": 1}), runner.Run("1'. first (b)", value, {"which": 2}),
            runner.Run("2. second.", value, {"which": 3})]
    how = runner.Execution(tmp_path, show_progress=False)
    first, _ = runner.execute("dots", plan, FAST, [0, 1], how)
    assert len(list((tmp_path / "runs" / "dots").glob("*.npz"))) == 6
    again, counts = runner.execute("dots", plan, FAST, [0, 1], how)
    assert tally(counts) == {"cached": 6, "computed": 0}
    assert again[1]["1'. first (b)"] == {"which": 2, "seed": 1}


def _worker_memory_settings():
    import dask  # on the worker; dask is an optional extra
    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), dask.config.get("distributed.worker.profile.enabled")


def test_local_cluster_workers_keep_glibc_thresholds_and_run_no_profiler(monkeypatch):
    """Dask's MALLOC_TRIM_THRESHOLD_=65536 made a worker's training 3x slower (benchmarks/dask_workers.py):
    the runner's workers must not have it, even when this process inherited it from an earlier cluster."""
    distributed = pytest.importorskip("dask.distributed")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    cluster = runner.local_cluster(1)
    try:
        with distributed.Client(cluster) as client:
            assert client.submit(_worker_memory_settings, pure=False).result() == (None, False)
    finally:
        cluster.close()
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"  # this process's own setting is left as it was


def test_a_pipe_inside_a_claim_stays_in_its_table_cell():
    result = common.DemoResult("x", "X")
    result.check("variance below the bound G^2/|H|", "Theorem 1", "ratio 0.5", True)
    row = next(line for line in result.markdown().splitlines() if line.startswith("| variance"))
    cells = [cell for cell in re.split(r"(?<!\\)\|", row)[1:-1]]
    assert len(cells) == 4 and cells[0].strip() == r"variance below the bound G^2/\|H\|"


def test_a_demo_run_as_a_module_caches_under_its_own_name(tmp_path):
    command = [sys.executable, "-m", "demos.optimizers", "--quick", "--out", str(tmp_path), "--no-progress"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["optimizers"]  # not "__main__"
    assert "== optimizers (quick plan, estimated ~3 s on 2 cores)" in done.stderr


DEMO_NAMES = ["parity", "optimizers", "flat_activations", "pwl_conditioning", "e2e_vs_decomposition", "depth"]


@pytest.mark.parametrize("name", DEMO_NAMES)
def test_every_demo_help_names_its_command_says_its_whole_description_and_helps_every_option(name, capsys):
    import importlib

    module = importlib.import_module(f"demos.{name}")
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    text = capsys.readouterr().out
    assert exit_.value.code == 0 and text.startswith(f"usage: python -m demos {name} ")
    description = " ".join(text.split("\n\n")[1].split())
    assert description.endswith((".", ")")) and description.count("(") == description.count(")")  # whole
    assert "``" not in text
    from demos.common import standard_parser

    parser = standard_parser(module.__doc__, prog=f"python -m demos {name}")
    assert all(action.help for action in parser._actions), [a.dest for a in parser._actions if not a.help]
    assert module.PLAN_TIMES["quick"] and module.PLAN_TIMES["paper"]


def test_the_runners_help_has_no_rest_markup(capsys):
    from demos.__main__ import main as demos_main
    from tinygrad_cg.cli import main as cli_main

    for main in (demos_main, cli_main):
        with pytest.raises(SystemExit):
            main(["--help"])
        assert "``" not in capsys.readouterr().out


def test_a_paper_plan_says_how_long_it_takes_before_it_starts():
    from demos.common import plan_time

    assert plan_time(optimizers_demo, "paper") == ("paper plan, estimated ~15 s a seed on 2 cores; --quick runs "
                                                   "the minutes-long plan")
    assert plan_time(optimizers_demo, "quick") == "quick plan, estimated ~3 s on 2 cores"


# --- where a command line's runs go by default ------------------------------------------------------

def parsed(*flags: str):
    parser = common.standard_parser(optimizers_demo.__doc__, prog="python -m demos optimizers")
    return parser, parser.parse_args(["--quick", *flags])


@pytest.mark.parametrize("cores,dask,expected", [(2, True, 2), (16, True, common.MAX_DEFAULT_WORKERS),
                                                 (1, True, None), (2, False, None)])
def test_by_default_a_command_line_uses_a_worker_a_core_where_dask_is_installed(monkeypatch, cores, dask,
                                                                                 expected):
    monkeypatch.setattr(runner, "usable_cores", lambda: cores)
    monkeypatch.setattr(runner, "dask_installed", lambda: dask)
    assert common.run_options(parsed()[1])["workers"] == expected
    assert common.run_options(parsed("--in-process")[1])["workers"] is None
    assert common.run_options(parsed("--workers", "3")[1])["workers"] == 3
    assert common.run_options(parsed("--scheduler", "tcp://127.0.0.1:1")[1])["workers"] is None
    line = common.where_runs_go(common.run_options(parsed()[1]))
    if expected:
        assert line.startswith(f"runs: on a Dask LocalCluster of {expected} single-threaded workers")
    elif cores > 1:  # Dask missing: say how to use the cores
        assert "pip install 'tinygrad_cg[cluster]'" in line and f"the {cores} cores" in line


def test_in_process_and_workers_together_are_a_usage_error(capsys):
    parser = common.standard_parser(optimizers_demo.__doc__, prog="python -m demos optimizers")
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["--in-process", "--workers", "2"])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_a_shared_cluster_starts_once_for_several_plans_and_not_at_all_when_all_is_cached(tmp_path, monkeypatch):
    pytest.importorskip("dask.distributed")
    starts = []
    real = runner.local_cluster
    monkeypatch.setattr(runner, "local_cluster", lambda workers: starts.append(workers) or real(workers))
    cached = runner.SharedCluster(2)
    run_toy(tmp_path / "a")  # in-process: fills a's cache
    _, counts = run_toy(tmp_path / "a", shared=cached)
    assert tally(counts) == {"cached": 3, "computed": 0} and not cached.started and starts == []
    shared = runner.SharedCluster(2)
    try:
        in_process, _ = run_toy(tmp_path / "b")
        first, counts = run_toy(tmp_path / "c", shared=shared)
        assert tally(counts) == {"cached": 0, "computed": 3} and shared.started
        second, _ = run_toy(tmp_path / "d", shared=shared)
        assert starts == [2]  # the second plan found the cluster running
        assert_same(first, in_process)
        assert_same(second, in_process)
    finally:
        shared.close()
    assert not shared.started


def test_the_command_line_runs_on_a_worker_a_core_by_default(tmp_path, capsys, monkeypatch):
    pytest.importorskip("dask.distributed")
    from demos.__main__ import main

    monkeypatch.setattr(runner, "usable_cores", lambda: 2)
    assert main(["optimizers", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "runs: on a Dask LocalCluster of 2 single-threaded workers" in err
    assert main(["optimizers", "--quick", "--out", str(tmp_path / "here"), "--no-progress", "--in-process"]) == 0
    assert "runs: in this process" in capsys.readouterr().err
    assert (tmp_path / "report.md").read_text().split("Ran in")[0] == \
        (tmp_path / "here" / "report.md").read_text().split("Ran in")[0]
