"""A real, non-editable install: the wheel carries the demos (tinygrad_cg.demos), and ``tinygrad-cg demos``
runs one from any folder, with no checkout in sight."""

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv with the project's wheel installed (not editable); its dependencies are this
    environment's, seen through a .pth file, so that nothing is downloaded again."""
    work = tmp_path_factory.mktemp("install")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", work / "dist", ROOT)
    assert built.returncode == 0, built.stderr
    wheel = next((work / "dist").glob("tinygrad_cg-*.whl"))
    venv = work / "venv"
    assert run(sys.executable, "-m", "venv", "--without-pip", venv).returncode == 0
    python = venv / "bin" / "python"
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    # appended to sys.path after the venv's own site-packages: numpy & co. from here, tinygrad_cg from the wheel
    (purelib / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet", wheel)
    assert done.returncode == 0, done.stderr
    return venv


def test_the_wheel_ships_the_demos_inside_the_package(installed, tmp_path):
    where = run(installed / "bin" / "python", "-c",
                "import tinygrad_cg, tinygrad_cg.demos.parity as p; print(tinygrad_cg.__file__); print(p.__file__)",
                cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    package, demo = where.stdout.split()
    assert str(installed) in package and str(installed) in demo and "tinygrad_cg/demos/parity.py" in demo
    top_level = run(installed / "bin" / "python", "-c", "import demos", cwd=tmp_path)
    assert top_level.returncode != 0  # the wheel adds no top-level "demos" package to site-packages


@pytest.mark.slow
def test_tinygrad_cg_demos_runs_a_quick_demo_from_any_folder(installed, tmp_path):
    done = run(installed / "bin" / "tinygrad-cg", "demos", "optimizers", "--quick", "--out", "results",
               "--no-progress", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "all claims held" in done.stdout
    assert (tmp_path / "results" / "report.md").exists() and list((tmp_path / "results").glob("*.png"))
    usage = run(installed / "bin" / "tinygrad-cg", "demos", "optimizers", "--seeds", "0", cwd=tmp_path)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: tinygrad-cg demos")


def test_a_learner_starts_the_exercises_from_the_installed_wheel(installed, tmp_path):
    started = run(installed / "bin" / "tinygrad-cg", "exercises", "start", "mywork", "--track", "graph", cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    package = tmp_path / "mywork" / "mygrad"
    assert (package / "graph.py").exists() and not (package / "demos").exists()
    assert not (package / "exercises").exists() and not (package / "kernels" / "numba_kernels.py").exists()
    status = run(installed / "bin" / "tinygrad-cg", "exercises", "status", cwd=tmp_path / "mywork")
    assert status.returncode == 1 and "0 of 5 done" in status.stdout, status.stdout + status.stderr
    assert status.stdout.count("not started") == 5
