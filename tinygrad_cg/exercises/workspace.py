"""A learner's workspace, written from the library's own source.

``start(folder, track)`` copies the library into ``folder/mygrad`` (a package of its own, so that the learner's
code and the reference can be imported side by side) and, for every exercise of the track, replaces the body of
each target function by ``raise NotImplementedError("Exercise 1.3: ...")``, keeping its signature and docstring.
The blanking is done on the syntax tree (``ast``): the function is found by its qualified name and only the
lines of its body change, so the rest of each file (comments included) stays as it is. Next to the package go
the tests (one per exercise, marked ``ex_1_3``: ``pytest -m ex_1_3``), a ``conftest.py``, a README and
``exercises.json`` (the track, and how far each hint ladder has been read).
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

from .catalogue import TRACKS, Exercise, get

PACKAGE = "mygrad"
LIBRARY = Path(__file__).resolve().parents[1]
LEFT_OUT = ("exercises", "cli.py", "demos", "kernels/numba_kernels.py")  # the grader, the commands, the Numba twins
STATE = "exercises.json"


class WorkspaceError(ValueError):
    """The folder is not a workspace, or cannot become one (it holds other files)."""


def find_function(tree: ast.Module, qualname: str) -> ast.FunctionDef:
    """The function or method ``qualname`` ("Square.backward", "topological_sort") in a parsed module."""
    nodes: list[ast.AST] = list(tree.body)
    parts = qualname.split(".")
    for depth, part in enumerate(parts):
        match = next((n for n in nodes if isinstance(n, ast.ClassDef | ast.FunctionDef) and n.name == part), None)
        if match is None:
            raise LookupError(f"{qualname!r}: no {part!r} in {'the module' if depth == 0 else parts[depth - 1]}")
        nodes = list(match.body)
    if not isinstance(match, ast.FunctionDef):
        raise LookupError(f"{qualname!r} is a class, not a function")
    return match


def body_lines(source: str, qualname: str) -> tuple[int, int, str]:
    """(first line, last line) of the function's body after its docstring (1-based, inclusive) and the
    body's indentation."""
    function = find_function(ast.parse(source), qualname)
    body = function.body
    docstring = (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                 and isinstance(body[0].value.value, str))
    first = body[1] if docstring and len(body) > 1 else body[0]
    lines = source.splitlines()
    indent = lines[body[0].lineno - 1][:body[0].col_offset]
    start = first.lineno if not (docstring and len(body) == 1) else function.end_lineno + 1
    return start, function.end_lineno, indent


def replace_body(source: str, qualname: str, new_body: str) -> str:
    """``source`` with the body (after the docstring) of ``qualname`` replaced by ``new_body`` (unindented
    lines; indented here to the body's level)."""
    start, end, indent = body_lines(source, qualname)
    lines = source.splitlines(keepends=True)
    body = "".join(f"{indent}{line}\n" if line else "\n" for line in new_body.splitlines())
    return "".join(lines[:start - 1]) + body + "".join(lines[end:])


def body_of(source: str, qualname: str) -> str:
    """The body (after the docstring) of ``qualname``, unindented: what ``replace_body`` puts back."""
    start, end, indent = body_lines(source, qualname)
    lines = source.splitlines()[start - 1:end]
    return "\n".join(line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines)


def blank(exercise: Exercise, qualname: str, graded: bool = True) -> str:
    """The body that replaces a target: one ``raise`` that names the exercise (and where the hints are)."""
    if graded:
        message = (f"Exercise {exercise.id}: write {qualname} (hints: tinygrad-cg exercises hint {exercise.id})")
    else:
        message = f"Exercise {exercise.id}: {qualname} is blanked with {exercise.title}: it would give the answer away"
    return f"raise NotImplementedError({message!r})"


def exercise_ids(track: str) -> tuple[str, ...]:
    if track not in TRACKS:
        raise WorkspaceError(f"no track {track!r}; the tracks are {', '.join(TRACKS)}")
    return TRACKS[track]


def start(folder: str | Path, track: str = "all") -> list[Exercise]:
    """Write a workspace for ``track`` into ``folder`` (new or empty); returns its exercises."""
    folder = Path(folder)
    chosen = [get(i) for i in exercise_ids(track)]
    if folder.exists() and any(folder.iterdir()):
        raise WorkspaceError(f"{folder} is not empty: start a workspace in a new folder")
    package = folder / PACKAGE
    shutil.copytree(LIBRARY, package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc"))
    for left_out in LEFT_OUT:
        path = package / left_out
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    init = package / "__init__.py"
    init.write_text('import os\n\nos.environ.setdefault("TINYGRAD_CG_KERNELS", "numpy")  # your code, not '
                    'the Numba kernels\n\n' + init.read_text())
    for exercise in chosen:
        for targets, graded in ((exercise.targets, True), (exercise.hidden, False)):
            for file, qualname in targets:
                path = package / file
                path.write_text(replace_body(path.read_text(), qualname, blank(exercise, qualname, graded)))
    write_tests(folder, chosen)
    (folder / STATE).write_text(json.dumps({"track": track, "exercises": [e.id for e in chosen], "hints": {}},
                                           indent=1))
    return chosen


def write_tests(folder: Path, chosen: list[Exercise]) -> None:
    tests = folder / "tests"
    tests.mkdir()
    lines = ['"""One test per exercise: pytest -m ex_1_3 grades exercise 1.3 (tinygrad-cg exercises check 1.3 '
             'too)."""', "", "import pytest", "", "from tinygrad_cg.exercises import grader", ""]
    for exercise in chosen:
        lines += ["", f"@pytest.mark.{exercise.marker}",
                  f"def test_exercise_{exercise.marker[3:]}(workspace):",
                  f'    """{exercise.id} {exercise.title}: {exercise.teaches}."""',
                  f"    grader.assert_done({exercise.id!r}, workspace)", ""]
    (tests / "test_exercises.py").write_text("\n".join(lines))
    markers = "\n".join(f"    {e.marker}: exercise {e.id}, {e.title}" for e in chosen)
    (folder / "pytest.ini").write_text(f"[pytest]\ntestpaths = tests\naddopts = -q\nmarkers =\n{markers}\n")
    (folder / "conftest.py").write_text(
        '"""The workspace for the tests: this folder, whose mygrad package holds your code."""\n\n'
        "import os\nfrom pathlib import Path\n\nimport pytest\n\n"
        'os.environ.setdefault("TINYGRAD_CG_KERNELS", "numpy")\n\n\n'
        "@pytest.fixture\ndef workspace():\n    return Path(__file__).parent\n")
    rows = "\n".join(f"| {e.id} | {e.title} | {', '.join(f'`{PACKAGE}/{f}` `{q}`' for f, q in e.targets) or '-'} | "
                     f"{e.teaches} |" for e in chosen)
    (folder / "README.md").write_text(
        "# Your tinygrad_cg exercises\n\n"
        f"`{PACKAGE}/` is a copy of the library in which the exercises' function bodies are blank "
        "(`raise NotImplementedError`); their docstrings say what to compute. Write one, then\n\n"
        "    tinygrad-cg exercises check 1.3      # or: pytest -m ex_1_3\n"
        "    tinygrad-cg exercises status         # done / failing / not started, for all\n"
        "    tinygrad-cg exercises hint 1.3       # the next hint for 1.3 (formula, shapes, NumPy idiom)\n\n"
        "Run them from this folder (or pass --dir). Your code is graded against the library's own layers and "
        "optimizers, and by finite differences.\n\n"
        "| id | exercise | where | what it teaches |\n| --- | --- | --- | --- |\n" + rows + "\n")


def load_state(folder: str | Path) -> dict:
    path = Path(folder) / STATE
    if not path.exists() or not (Path(folder) / PACKAGE).is_dir():
        raise WorkspaceError(f"{folder} is not an exercises workspace (no {STATE} and {PACKAGE}/); make one "
                             "with: tinygrad-cg exercises start DIR")
    return json.loads(path.read_text())


def next_hint(folder: str | Path, exercise_id: str) -> tuple[int, int, str]:
    """The next hint of the exercise's ladder (number, how many, text), remembered in ``exercises.json``;
    after the last one, the last again."""
    exercise = get(exercise_id)
    state = load_state(folder)
    shown = min(state["hints"].get(exercise_id, 0) + 1, len(exercise.hints))
    state["hints"][exercise_id] = shown
    (Path(folder) / STATE).write_text(json.dumps(state, indent=1))
    return shown, len(exercise.hints), exercise.hints[shown - 1]
