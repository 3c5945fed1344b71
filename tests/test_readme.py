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


def test_network_example_runs():
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(python_blocks()[0], "README tutorial", "exec"), namespace)  # defines cg and L
        exec(compile(python_blocks()[1], "README network", "exec"), namespace)
    assert namespace["graph"].summary().count("Affine") == 2
