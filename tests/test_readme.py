"""The README's code blocks run as written (so the tutorial stays true)."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_tutorial_runs_and_prints_the_lecture_gradient():
    tutorial = python_blocks()[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(tutorial, "README tutorial", "exec"), {})
    text = out.getvalue()
    assert "-8.0 -8.0" in text and "forward [5] Square 's'" in text


def block(containing: str) -> str:
    return next(b for b in python_blocks() if containing in b)


def run_after_tutorial(code: str, name: str) -> dict:
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(python_blocks()[0], "README tutorial", "exec"), namespace)  # defines cg, L and the graph
        exec(compile(code, name, "exec"), namespace)
    return namespace


def test_network_example_runs():
    namespace = run_after_tutorial(block("cg.nn.mlp"), "README network")
    assert namespace["graph"].summary().count("Affine") == 2


def test_drawing_example_writes_the_picture(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_after_tutorial(block("cg.viz.draw"), "README drawing")
    assert (tmp_path / "lecture.png").stat().st_size > 5_000


def test_optimizer_comparison_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = run_after_tutorial("from tinygrad_cg import optim\n" + block("optim.compare"), "README compare")
    assert set(namespace["result"].losses) == {"SGD", "Adam"} and (tmp_path / "losses.png").exists()
