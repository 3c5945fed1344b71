"""Sphinx configuration of the tinygrad_cg documentation site.

Build: ``pip install -e ".[docs,numba]"`` then ``sphinx-build -W docs docs/_build/html`` from the checkout's root
(warnings are errors). What the build makes, and where:
- the tutorials: ``notebooks/*.py`` (Jupytext percent files) executed by myst-nb, outputs and figures shown;
- the demo gallery: ``_ext/demo_gallery.py`` runs each demo's quick plan (seed 0) through the demos' own runner
  and writes a page per demo from its result (claims table, notes, figures) into ``gallery/`` (generated);
  the run cache under ``_build/demo-runs`` (or ``$TINYGRAD_CG_DOCS_RUNS``) makes a rebuild fast;
- the paper-scale results: ``results/`` as committed by the runs, linked, not re-run;
- the API reference from the docstrings (autodoc + napoleon; ``.. math::`` rendered by MathJax).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the demos package of this checkout
sys.path.insert(0, str(DOCS / "_ext"))

import tinygrad_cg  # noqa: E402

# The tutorials' kernels inherit this process's environment: with MPLBACKEND=Agg (as CI and the tests set it) their
# figures would be drawn off-screen and never reach the page. Without it, ipykernel shows them inline. (The demo
# gallery is unaffected: the demos select Agg themselves.)
os.environ.pop("MPLBACKEND", None)

project = "tinygrad_cg"
author = "the tinygrad_cg developers"
copyright = "2026, the tinygrad_cg developers"
release = version = tinygrad_cg.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 served from the site itself: the math renders with no network
    "sphinx.ext.viewcode",
    "demo_gallery",
    "tutorials",
]

# Jupytext percent files are notebooks: myst-nb reads them through jupytext and executes them.
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "cache"            # re-executed only when a tutorial's code changed
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 300
nb_execution_raise_on_error = True     # a tutorial that fails fails the build
nb_execution_show_tb = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# results/*.py: scripts that make results (quick_sweep.py), not notebooks
exclude_patterns = ["_build", "_ext", "conf.py", "results/*/runs", "results/*.py", "results/crosscheck",
                    "**/.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type"]

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "pydata_sphinx_theme"
html_title = "tinygrad_cg"
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path: list[str] = []
