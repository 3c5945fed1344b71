"""Sphinx extension: the tutorials are the checkout's ``notebooks/*.py`` (Jupytext percent files). Before
reading sources, copy each into ``docs/tutorials/`` (generated, not committed; rewritten only when changed,
so that Sphinx and myst-nb's execution cache see an unchanged file as unchanged) and write its index."""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx


def write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def copy_tutorials(app: Sphinx) -> None:
    docs = Path(app.srcdir)
    target = docs / "tutorials"
    target.mkdir(exist_ok=True)
    notebooks = sorted((docs.parent / "notebooks").glob("[0-9][0-9]_*.py"))
    for notebook in notebooks:
        write_if_changed(target / notebook.name, notebook.read_text())
    for stale in set(target.glob("*.py")) - {target / n.name for n in notebooks}:
        stale.unlink()
    entries = "\n".join(n.stem for n in notebooks)
    write_if_changed(target / "index.md", f"""# Tutorials

Each tutorial is a Jupytext percent-format file in the repository's `notebooks/` folder, executed when this
site is built: what you see below each cell is what it printed and drew. Run one yourself as a script
(`python notebooks/01_backprop_by_hand.py`) or open it as a notebook
(`pip install -e ".[notebooks]" && jupytext --to ipynb notebooks/*.py && jupyter notebook notebooks/`).

```{{toctree}}
:maxdepth: 1

{entries}
```
""")


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", copy_tutorials)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
