"""Exercises: a workspace made from the library's source, every blank "not started", every exercise done once
the library's own body is put back (so the catalogue, the blanks and the checks cannot rot), and each common
mistake caught with the message a learner can act on."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_cg import exercises
from tinygrad_cg.cli import main as cli
from tinygrad_cg.exercises import grader, workspace

LIBRARY = workspace.LIBRARY


def restore(folder: Path, exercise: exercises.Exercise) -> None:
    """Put the library's own bodies back into the workspace's blanks of ``exercise``."""
    for file, qualname in exercise.targets + exercise.hidden:
        path = folder / workspace.PACKAGE / file
        solution = workspace.body_of((LIBRARY / file).read_text(), qualname)
        path.write_text(workspace.replace_body(path.read_text(), qualname, solution))


def write(folder: Path, file: str, qualname: str, body: str) -> None:
    """The learner writes ``body`` into ``qualname``."""
    path = folder / workspace.PACKAGE / file
    path.write_text(workspace.replace_body(path.read_text(), qualname, body))


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exercises") / "mywork"
    exercises.start(folder)
    return folder


def test_a_new_workspace_has_every_exercise_blank_and_no_solution_in_it(blank):
    assert {v.status for v in grader.status(blank)} == {"not started"}
    for exercise in exercises.EXERCISES:
        for file, qualname in exercise.targets + exercise.hidden:
            mine = workspace.body_of((blank / workspace.PACKAGE / file).read_text(), qualname)
            assert mine.startswith("raise NotImplementedError(") and mine.count("\n") == 0, (exercise.id, qualname)
            solution = workspace.body_of((LIBRARY / file).read_text(), qualname)
            assert solution.strip().splitlines()[-1].strip() not in (blank / workspace.PACKAGE / file).read_text() \
                or len(solution.strip().splitlines()[-1].strip()) < 12, (exercise.id, qualname)
    square = (blank / workspace.PACKAGE / "layers" / "arithmetic.py").read_text()
    assert '"""o = x^2 (elementwise).   delta_x += 2 x delta."""' in square  # the docstring (the formula) stays
    assert not (blank / workspace.PACKAGE / "exercises").exists()  # the grader and its hints stay in the library
    assert "ex_1_3" in (blank / "pytest.ini").read_text() and (blank / "README.md").exists()


@pytest.mark.slow  # trains the two capstones (a parity MLP and a LeNet): ~30 s
def test_the_librarys_own_bodies_pass_every_exercise(tmp_path):
    folder = tmp_path / "filled"
    exercises.start(folder)
    assert {v.status for v in grader.status(folder)} == {"not started"}
    for exercise in exercises.EXERCISES:
        restore(folder, exercise)
    verdicts = grader.status(folder)
    assert [v.status for v in verdicts] == ["done"] * len(exercises.EXERCISES), [
        (v.exercise, v.message) for v in verdicts if v.status != "done"]
    # and through the workspace's own tests, as a learner runs them (the capstones were graded just above)
    layers = [e for e in exercises.EXERCISES if e.targets]
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m",
                          " or ".join(e.marker for e in layers)], cwd=folder,
                         capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0 and f"{len(layers)} passed" in run.stdout, run.stdout[-2000:]


def test_the_workspaces_tests_say_not_started_without_a_traceback(blank):
    run = subprocess.run([sys.executable, "-m", "pytest", "-m", "ex_1_3", "-p", "no:cacheprovider"], cwd=blank,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "1 failed" in run.stdout
    assert "Exercise 1.3: not started: write Square.backward in mygrad/layers/arithmetic.py" in run.stdout
    assert "Traceback" not in run.stdout and "NotImplementedError" not in run.stdout


@pytest.fixture
def started(tmp_path) -> Path:
    folder = tmp_path / "mywork"
    exercises.start(folder)
    return folder


MISTAKES = [
    ("1.3", "layers/arithmetic.py", "Square.backward",
     "x = self.inputs[0]\nx.delta = 2 * x.output * self.delta", "assigned (=) instead of adding (+=)"),
    ("1.2", "layers/arithmetic.py", "Subtract.backward",
     "a, b = self.inputs\na.delta += _sum_to_shape(self.delta, a.delta.shape)\n"
     "b.delta += _sum_to_shape(self.delta, b.delta.shape)", "the delta of input 1 (shape (3, 4)): the sign is flipped"),
    ("1.1", "layers/arithmetic.py", "Multiply.backward",
     "a, b = self.inputs\na.delta += self.delta * b.output\nb.delta += self.delta * a.output",
     "a 0-d scalar times an array (the lecture's w x): adding into a delta failed"),
    ("5.1", "layers/losses.py", "HingeLoss.backward",
     "s, y = self.inputs\nif s.needs_delta:\n    s.delta += -self.delta * y.output * self.active",
     "8 times too large, the batch size: the loss is the mean over the batch"),
    ("3.1", "layers/affine.py", "Affine.backward",
     "x, W, b = self.inputs\nx.delta += self.delta @ W.output.T\nW.delta += self.delta.T @ x.output\n"
     "b.delta += self.delta.sum(axis=0)", "yours is its transpose, D^T X"),
    ("3.1", "layers/affine.py", "Affine.backward",
     "x, W, b = self.inputs\nx.delta += self.delta @ W.output\nW.delta += x.output.T @ self.delta\n"
     "b.delta += self.delta.sum(axis=0)", "you multiplied by W, not by its transpose"),
    ("4.1", "layers/activations.py", "ReLU.backward",
     "x = self.inputs[0]\nx.delta += self.delta * (self.output > 0", "SyntaxError"),
    ("5.3", "layers/losses.py", "SoftmaxCrossEntropy.backward",
     "logits = self.inputs[0]\nz = logits.output\np = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n"
     "p[np.arange(len(p)), self.index] -= 1\nlogits.delta += p * self.delta / len(p)",
     "large logits (1000): the delta of input 0 (shape (2, 3)) holds"),
    ("7.1", "kernels/reference.py", "maxpool_backward",
     "n, c, oh, ow = delta.shape\ngrad = np.zeros(x_shape) if add_to is None else add_to\n"
     "windows = _pool_windows(np.zeros(x_shape), k, stride)\n"
     "for y in range(oh):\n    for x in range(ow):\n"
     "        grad[:, :, y * stride:y * stride + k, x * stride:x * stride + k] "
     "+= delta[:, :, y:y + 1, x:x + 1] / (k * k)\nreturn grad", "differs from the library's"),
    ("8.1", "optim/sgd.py", "SGD.update",
     "buffer = self.velocity(grad, state)\nparam -= lr * buffer", "SGD(lr=0.1, momentum=0.9, nesterov=True): after "
     "step 1"),
    ("8.4", "optim/adaptive.py", "Adam.update",
     "beta1, beta2 = self.betas\nm = self.buffer(state, 'exp_avg', param)\n"
     "v = self.buffer(state, 'exp_avg_sq', param)\n"
     "m *= beta1\nm += (1 - beta1) * grad\nv *= beta2\nv += (1 - beta2) * grad * grad\n"
     "param -= lr * m / (np.sqrt(v) + self.eps)", "the very first step is already off"),
]


@pytest.mark.parametrize("exercise,file,qualname,body,message", MISTAKES, ids=[f"{m[0]}-{m[4][:24]}" for m in MISTAKES])
def test_a_common_mistake_gets_the_message_that_explains_it(started, exercise, file, qualname, body, message):
    write(started, file, qualname, body)
    if exercise == "8.1":  # SGD.velocity is blanked with it: put the helper back, the mistake is in update
        write(started, file, "SGD.velocity", workspace.body_of((LIBRARY / file).read_text(), "SGD.velocity"))
    verdict = grader.grade(exercise, started)
    assert verdict.status == "failing" and message in verdict.message, verdict.message


def test_an_error_in_the_learners_code_names_the_file_and_line(started):
    write(started, "layers/arithmetic.py", "Square.backward", "x = self.inputs[0]\nx.delta += x.outptu")
    verdict = grader.grade("1.3", started)
    assert verdict.status == "failing" and "AttributeError" in verdict.message
    assert "(at mygrad/layers/arithmetic.py:" in verdict.message and "in backward)" in verdict.message


def test_hints_come_one_rung_at_a_time_and_are_remembered(started):
    ladder = exercises.get("1.3").hints
    assert [workspace.next_hint(started, "1.3") for _ in range(4)] == [
        (1, 3, ladder[0]), (2, 3, ladder[1]), (3, 3, ladder[2]), (3, 3, ladder[2])]
    assert workspace.next_hint(started, "2.1")[0] == 1


def test_the_command_line(tmp_path, capsys):
    folder = tmp_path / "mine"
    assert cli(["exercises", "start", str(folder), "--track", "optimizers"]) == 0
    assert "5 exercises (optimizers)" in capsys.readouterr().out
    assert cli(["exercises", "status", "--dir", str(folder)]) == 1
    table = capsys.readouterr().out
    assert "8.4  Adam.update" in table and "not started  write Adam.update in mygrad/optim/adaptive.py" in table
    assert table.rstrip().endswith("0 of 5 done")
    restore(folder, exercises.get("8.4"))
    assert cli(["exercises", "check", "8.4", "--dir", str(folder)]) == 0
    assert "Exercise 8.4: done" in capsys.readouterr().out
    assert cli(["exercises", "hint", "8.2", "--dir", str(folder)]) == 0
    assert "hint 1 of 3: G += g^2" in capsys.readouterr().out
    for argv, message in ((["exercises", "start", str(folder)], "is not empty"),
                          (["exercises", "check", "9.9", "--dir", str(folder)], "no exercise '9.9'"),
                          (["exercises", "status", "--dir", str(tmp_path)], "is not an exercises workspace"),
                          (["exercises", "start", str(tmp_path / "new"), "--track", "nope"], "invalid choice")):
        with pytest.raises(SystemExit) as exit_:
            cli(argv)
        assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_the_catalogue_names_real_functions_in_the_lectures_order():
    ids = [e.id for e in exercises.EXERCISES]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("."))))
    for exercise in exercises.EXERCISES:
        assert len(exercise.hints) == 3 and exercise.teaches and exercise.slide
        for file, qualname in exercise.targets + exercise.hidden:
            workspace.find_function(__import__("ast").parse((LIBRARY / file).read_text()), qualname)
    assert set(exercises.TRACKS["all"]) == set(ids)


def test_the_docs_page_lists_every_exercise():
    page = (LIBRARY.parent / "docs" / "exercises.md").read_text()
    for exercise in exercises.EXERCISES:
        assert f"| {exercise.id} |" in page, exercise.id
