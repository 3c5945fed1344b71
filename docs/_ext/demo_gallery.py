"""Sphinx extension: the demo gallery, built from the demos themselves.

Before reading sources, run each demo's quick plan (seed 0) through the demos' own runner
(``demos.common.run_demo``: cached, so a rebuild computes nothing new) and write ``docs/gallery/<demo>.md``:
the demo's description (its module docstring), the command that reproduces the page, and its result as the
report shows it (claims next to the measured values, notes, tables) with its figures. The run cache and the
figures' first copies go to ``$TINYGRAD_CG_DOCS_RUNS`` (default ``docs/_build/demo-runs``).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging
from tutorials import write_if_changed

logger = logging.getLogger(__name__)


def demo_page(name: str, module, result) -> str:
    """The gallery page of one demo: title, description, command, then the report's section without its title."""
    description = (module.__doc__ or "").strip()
    report = result.markdown().split("\n", 1)[1]  # drop "## title": the page has its own
    return (f"# {result.title}\n\n```text\n{description}\n```\n\n"
            f"Reproduce this page: `python -m demos {name} --quick` (or `tinygrad-cg demos {name} --quick` after "
            f"`pip install tinygrad_cg`). The quick plan, seed 0; the paper-scale results are on the "
            f"[results page](../results/README.md).\n\n{report}")


def build_gallery(app: Sphinx) -> None:
    from demos.__main__ import available, load
    from demos.common import run_demo

    docs = Path(app.srcdir)
    gallery = docs / "gallery"
    gallery.mkdir(exist_ok=True)
    runs = Path(os.environ.get("TINYGRAD_CG_DOCS_RUNS", docs / "_build" / "demo-runs"))
    names = available()
    for name in names:
        start = time.perf_counter()
        module = load(name)
        result = run_demo(module, scale="quick", out=runs, seeds=[0], show_progress=False)
        for figure in result.figures:
            target = gallery / figure.name
            if not target.exists() or target.read_bytes() != figure.read_bytes():
                shutil.copyfile(figure, target)
        write_if_changed(gallery / f"{name}.md", demo_page(name, module, result))
        held = sum(c.held for c in result.counted)
        logger.info(f"gallery: {name}: {held}/{len(result.counted)} claims held "
                    f"({time.perf_counter() - start:.0f} s)")
    entries = "\n".join(names)
    write_if_changed(gallery / "index.md", f"""# Demo gallery

One page per demo: each failure family of the paper, the optimizer comparison, and depth (from the lectures).
Every page is the demo's quick plan run while this site was built (seed 0): its claims table is the report's,
each claim checked against a value measured in that run, with the figures it drew. The same claims hold on
seeds 0..4 in the test suite (`tests/test_claims_on_seeds.py`).

```{{toctree}}
:maxdepth: 1

{entries}
```
""")


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", build_gallery)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
