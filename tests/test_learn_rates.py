"""docs/results/crosscheck: the learn-rate study of Section 3 and the PyTorch transliteration of tuple_rect.py."""

import dataclasses
import importlib
import sys
from itertools import product
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "results" / "crosscheck"))
study = importlib.import_module("learn_rates")


# --- judging -----------------------------------------------------------------------------------------

def test_learned_at_is_the_first_evaluation_of_the_first_streak():
    curve = [0.5, 0.85, 0.5, 0.81, 0.9, 0.88, 0.5]
    result = study.summarize(np.arange(7) * 100, curve, 1.0, budget=600)
    assert result["learned_at"] == 300  # the lone 0.85 at 100 is not a streak of 3
    assert study.learned_within(result, 500) and not study.learned_within(result, 400)
    never = study.summarize([0, 100, 200], [0.5, 0.9, 0.9], 1.0, budget=200)
    assert never["learned_at"] == -1 and not study.learned_within(never, 10_000)


def test_rates_intervals_and_fisher():
    low, high = study.wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-3) and high == pytest.approx(0.7634, abs=1e-3)
    assert study.wilson(0, 10)[0] == 0.0 and study.wilson(10, 10)[1] == 1.0
    group = study.Group("ours", 2, 2_500, 10)
    learned = {s: study.summarize([0, 100, 200], [0.9] * 3, 0, 2_500) for s in range(9)}
    failed = {9: study.summarize([0, 100, 200], [0.5] * 3, 0, 2_500)}
    row = study.rate_row(group, {**learned, **failed})
    assert (row["m"], row["n"]) == (9, 10)
    none = study.rate_row(group, {s: failed[9] for s in range(10)})
    assert study.fisher(row, none) < 0.001  # 9/10 vs 0/10
    assert study.fisher(row, row) == pytest.approx(1.0)


def test_the_report_draws_the_rates_and_the_comparison_from_the_cache(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "docs" / "results"))
    script = importlib.import_module("e2e_learn_rates")
    groups = [study.Group("ours", 2, 300, 4), study.Group("torch", 2, 300, 4)]
    monkeypatch.setattr(study, "STAGES", {"protocol": groups, "ablation": [], "paper": []})
    store = script.cache(tmp_path)
    curves = {"ours": [[0.5, 0.9, 0.9, 0.9], [0.5] * 4, [0.5] * 4, [0.5] * 4],
              "torch": [[0.9] * 4, [0.5, 0.9, 0.9, 0.9], [0.5] * 4, [0.9, 0.9, 0.9, 0.5]]}
    for group in groups:
        for seed, curve in enumerate(curves[group.implementation]):
            store.save(group.run(), seed, study.summarize([0, 100, 200, 300], curve, 3.0, 300), 1.0)
    text = script.report(tmp_path)
    assert "| protocol | 2 | 300 | ours, Adam tensorflow | **1/4**" in text
    assert "| protocol | 2 | 300 | torch, Adam tensorflow | **3/4**" in text
    assert "0: 0, 1: 100, 3: 0" in text  # seed: learned at
    assert "1/4 vs 3/4 | 0.486 |" in text  # Fisher's exact test, two-sided
    assert (tmp_path / "learn_rates.png").stat().st_size > 10_000


def test_our_training_stops_once_learned():
    from demos.e2e_networks import tuple_feed
    from demos.e2e_settings import PAPER
    from demos.e2e_vs_decomposition import train

    settings = dataclasses.replace(PAPER, batch=4, iterations=100, eval_every=2, test_tuples=8)
    test = tuple_feed(1, 8, np.random.default_rng(0), with_labels=False)
    stopped = train("end-to-end", 1, settings, 0, test, False, until_learned=(0.0, 3))  # every evaluation counts
    assert list(stopped["iterations"]) == [0, 2, 4]
    full = train("end-to-end", 1, settings, 0, test, False)
    assert full["iterations"][-1] == 100
    np.testing.assert_array_equal(full["accuracy"][:3], stopped["accuracy"])


def test_a_study_run_that_is_not_stopped_is_the_paper_plans_run_to_the_bit():
    """What lets ``e2e_learn_rates.py --adopt-into`` store a study run as the paper plan's: same seed, same
    curve, when the study's evaluation and budget are the plan's."""
    from demos import e2e_vs_decomposition as demo

    rates = study.RateSettings(eval_every=3, test_tuples=12)
    plan = study.ours_plan(rates, 6, "tensorflow")
    assert study.same_training(plan, demo.PAPER) is False  # another budget and evaluation
    assert study.same_training(dataclasses.replace(demo.PAPER, iterations=6, eval_every=3, test_tuples=12), plan)
    ours = study.ours_run(rates, seed=1, k=2, budget=6)
    paper = demo.train_run(plan, 1, 2, "end-to-end")
    assert ours["learned_at"] == -1 and ours["last_iteration"] == 6
    np.testing.assert_array_equal(ours["iterations"], paper["iterations"])
    np.testing.assert_array_equal(ours["accuracy"], paper["accuracy"])


def test_adopt_stores_only_whole_budget_runs_as_the_paper_plans(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "docs" / "results"))
    script = importlib.import_module("e2e_learn_rates")
    from demos import e2e_vs_decomposition as demo
    from demos import runner

    group = study.Group("ours", 2, 300, 3)
    monkeypatch.setattr(study, "STAGES", {"protocol": [], "ablation": [], "paper": [group, study.Group("ours", 3, 999,
                                                                                                         1)]})
    paper = dataclasses.replace(demo.PAPER, iterations=300)
    store = script.cache(tmp_path / "study")
    whole = study.summarize([0, 100, 200, 300], [0.5, 0.52, 0.5, 0.51], 7.0, 300)
    store.save(group.run(), 0, whole, 11.0)
    store.save(group.run(), 1, study.summarize([0, 100, 200, 300], [0.5, 0.9, 0.9, 0.9], 5.0, 300)
               | {"last_iteration": 300}, 9.0)  # learned at its last evaluation: ran the whole budget all the same
    store.save(group.run(), 2, study.summarize([0, 100, 200], [0.9, 0.9, 0.9], 2.0, 300), 3.0)  # stopped early
    lines = script.adopt(tmp_path / "study", tmp_path / "paper", seeds=3, paper=paper)
    assert lines == ["k = 2, seed 0: adopted (ran all 300 iterations)", "k = 2, seed 1: adopted (ran all 300 "
                     "iterations)", "k = 2, seed 2: stopped once learned at 200; the paper plan computes it"]
    target = runner.ResultCache(tmp_path / "paper" / "runs", "e2e_vs_decomposition", paper)
    run = next(r for r in demo.plan(paper) if r.key == "train k=2 end-to-end")
    adopted = target.load(run, 0)
    np.testing.assert_array_equal(adopted["accuracy"], whole["accuracy"])
    assert adopted["step_seconds"] == 7.0 and "paper stage" in adopted["computed_as"]
    assert target.recorded_seconds(run, 0) == 11.0 and target.load(run, 2) is None
    assert script.adopt(tmp_path / "study", tmp_path / "paper", seeds=1, paper=paper) == [
        "k = 2, seed 0: the paper plan has it already"]
    # a plan that trains otherwise (here: evaluated on other tuples) adopts nothing
    assert script.adopt(tmp_path / "study", tmp_path / "other", 3, dataclasses.replace(paper, test_tuples=50)) == []


# --- the PyTorch transliteration ------------------------------------------------------------------------

def authors_image(theta: float, centre: np.ndarray, length: float) -> np.ndarray:
    """read_rect_data.py's loop for one image, as written there."""
    image = np.zeros((28, 28), dtype=np.float32)
    unit_vec = np.array([np.cos(theta), np.sin(theta)])
    for l in range(int(length // 2)):
        for sgn in [-1, 1]:
            pt = (centre + sgn * unit_vec * l).astype(np.int32)
            for dx, dy in product([0], repeat=2):
                ptpt = pt + np.array([dx, dy])
                if all((0 <= ptpt) * (ptpt < 28)):
                    image[ptpt[0], ptpt[1]] = 1
    return image


def test_cross_check_draws_the_authors_images_and_targets():
    pytest.importorskip("torch")
    crosscheck = importlib.import_module("tuple_rect_torch")
    rng = np.random.default_rng(4)
    theta, centre, length = rng.uniform(0, np.pi, 300), 28 * rng.uniform(0, 1, (300, 2)), rng.uniform(5, 23, 300)
    centre[:5] = [[0.2, 27.9], [27.99, 0.0], [14, 14], [0.0, 0.0], [27.5, 27.5]]  # edges and corners
    ours = crosscheck.draw_lines(theta, centre, length)
    expected = np.array([authors_image(t, c, n) for t, c, n in zip(theta, centre, length, strict=True)])
    np.testing.assert_array_equal(ours, expected)
    data = crosscheck.RectTupleData(3, 50, np.random.default_rng(1))
    ups = (data.y_sup == 1).sum(axis=1)
    np.testing.assert_array_equal(data.y, np.where(ups % 2 == 1, 1.0, -1.0))  # -1 + 2 (#up mod 2)
    first, _, _ = data.next_batch(40)
    again, _, _ = data.next_batch(40)  # a short read starts over, as the script's seek(0)
    assert first.shape == (120, 28, 28) and np.array_equal(first, again)


def test_cross_check_adam_is_tensorflows_and_matches_the_library():
    torch = pytest.importorskip("torch")
    crosscheck = importlib.import_module("tuple_rect_torch")
    from tinygrad_cg import layers as L
    from tinygrad_cg import optim

    start = np.array([0.7, -0.3, 0.1])
    gradients = [np.array([np.sin(1.3 * t), 0.02 * np.cos(0.7 * t), 1e-4]) for t in range(30)]
    p = torch.nn.Parameter(torch.tensor(start, dtype=torch.float32))
    theirs = crosscheck.TensorFlowAdam([p], learning_rate=0.01, beta1=0.9, beta2=0.99, epsilon=1e-3)
    w = L.Variable(start.copy())
    ours = optim.Adam([w], lr=0.01, betas=(0.9, 0.99), eps=1e-3, eps_form="tensorflow")
    torch_form = L.Variable(start.copy())
    other = optim.Adam([torch_form], lr=0.01, betas=(0.9, 0.99), eps=1e-3)
    for g in gradients:
        p.grad = torch.tensor(g, dtype=torch.float32)
        theirs.step()
        w.delta, torch_form.delta = g.copy(), g.copy()
        ours.step()
        other.step()
    np.testing.assert_allclose(p.detach().numpy(), w.output, rtol=1e-5, atol=1e-6)  # float32 vs float64
    assert np.abs(torch_form.output - w.output).max() > 1e-3  # and the forms differ here


def test_cross_check_resumes_from_a_checkpoint_with_the_same_numbers(tmp_path):
    pytest.importorskip("torch")
    crosscheck = importlib.import_module("tuple_rect_torch")
    from demos.runner import Checkpoint, save_tree

    class SaveAt(Checkpoint):
        """Saves at one step, then stops the run (as a session's end would)."""

        def maybe_save(self, make_state):
            state = make_state()
            if state["step"] == 60:
                save_tree(self.path, state)
                raise KeyboardInterrupt
            return False

    kwargs = dict(max_steps=120, pool_tuples=1_000, stop_when_learned=False, adam="torch")
    whole = crosscheck.train(2, 3, **kwargs)
    with pytest.raises(KeyboardInterrupt):
        crosscheck.train(2, 3, checkpoint=SaveAt(tmp_path / "state.npz"), **kwargs)
    resumed = crosscheck.train(2, 3, checkpoint=Checkpoint(tmp_path / "state.npz"), **kwargs)
    np.testing.assert_array_equal(resumed["iterations"], whole["iterations"])
    np.testing.assert_array_equal(resumed["accuracy"], whole["accuracy"])


def test_on_a_cluster_the_groups_of_a_stage_run_at_once_and_in_process_one_after_another(tmp_path, monkeypatch):
    import threading

    sys.path.insert(0, str(ROOT / "docs" / "results"))
    script = importlib.import_module("e2e_learn_rates")
    groups = [study.Group("ours", 3, 300, 5), study.Group("torch", 3, 300, 3)]
    monkeypatch.setattr(study, "STAGES", {**study.STAGES, "paper": groups})

    class FakeCluster:
        scheduler_address, closed = "tcp://127.0.0.1:1", False

        def close(self):
            FakeCluster.closed = True

    monkeypatch.setattr(script.runner, "local_cluster", lambda workers: FakeCluster())
    both_submitted = threading.Barrier(2, timeout=10)  # broken (an error) unless the two groups overlap
    calls = []

    def execute(demo, plan, settings, seeds, how, wait=True):
        calls.append((tuple(run.key for run in plan), len(seeds), how.scheduler))
        if wait:
            both_submitted.wait()
        return {}, {"computed": len(plan) * len(seeds), "cached": 0}

    monkeypatch.setattr(script.runner, "execute", execute)
    script.run_stage("paper", tmp_path, workers=2)
    assert sorted(calls) == [(("ours k=3 budget=300 adam=tensorflow",), 5, "tcp://127.0.0.1:1"),
                             (("torch k=3 budget=300 adam=tensorflow",), 3, "tcp://127.0.0.1:1")]
    assert FakeCluster.closed
    calls.clear()
    monkeypatch.setattr(script.runner, "execute", lambda *args: execute(*args, wait=False))
    script.run_stage("paper", tmp_path, workers=0)
    assert [(keys[0].split()[0], n, address) for keys, n, address in calls] == [("ours", 5, None), ("torch", 3, None)]
