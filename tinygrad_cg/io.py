"""Save and load a graph's parameters as ``.npz`` (no pickle), written atomically.

The file maps each Variable's name to its array. ``load`` checks every name and shape before it
changes anything, so a mismatched file leaves the graph as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .errors import CheckpointError, GraphError, ShapeError
from .graph import Graph


def _variables_by_name(graph: Graph) -> dict:
    by_name = {}
    for v in graph.variables:
        if v.name in by_name:
            raise GraphError(f"two Variables are both named '{v.name}'; give them distinct names to save them")
        by_name[v.name] = v
    return by_name


def save(path: str | os.PathLike, graph: Graph) -> Path:
    """Write every Variable of ``graph`` to ``path`` (``.npz``): to a temporary file, then renamed.

    A crash mid-write never leaves a truncated file under ``path``; an existing file is replaced
    only once the new one is complete. A missing directory raises ``CheckpointError`` naming it.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    if not path.parent.is_dir():
        raise CheckpointError(f"cannot save {path.name}: the directory {path.parent} does not exist")
    arrays = {name: v.output for name, v in _variables_by_name(graph).items()}
    atomic_write(path, lambda handle: np.savez(handle, **arrays))
    return path


def atomic_write(path: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Call ``write(handle)`` on a temporary file in ``path``'s directory, flush it to disk, then rename it
    over ``path``: a crash never leaves a half-written file, and an existing one is replaced only once the
    new one is whole. The temporary file is removed if anything fails."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_checkpoint(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of a checkpoint file, read whole; ``CheckpointError`` naming the file for anything that
    is not a readable ``.npz`` of real-valued arrays (missing, empty, truncated, another format, pickled)."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a bare .npy array
            raise ValueError("a single array, not an archive of named arrays")
        with archive:
            stored = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint file") from None
    except Exception as exc:  # zip, EOF, format and "pickled data" errors all mean: not a whole checkpoint
        raise CheckpointError(f"{path}: not a checkpoint (an .npz archive written by cg.io.save), or truncated "
                              f"({type(exc).__name__})") from None
    for name, array in stored.items():
        if array.dtype.kind not in "biuf":
            raise CheckpointError(f"{path}: entry '{name}' holds {array.dtype} values, not numbers")
    return stored


def load(path: str | os.PathLike, graph: Graph) -> None:
    """Load parameters saved by ``save`` into ``graph``; names and shapes must match exactly.

    Everything is checked before anything changes: a damaged file raises ``CheckpointError``, a file of
    another network ``GraphError`` (names) or ``ShapeError`` (shapes), and the graph keeps its values.
    """
    variables = _variables_by_name(graph)
    stored = read_checkpoint(path)
    missing = sorted(set(variables) - set(stored))
    unknown = sorted(set(stored) - set(variables))
    if missing or unknown:
        raise GraphError(f"{path}: parameter names do not match the graph (missing {missing}, unknown {unknown})")
    for name, array in stored.items():
        if array.shape != variables[name].output.shape:
            raise ShapeError(
                f"{path}: Variable '{name}' has shape {variables[name].output.shape} in the graph "
                f"but {array.shape} in the file"
            )
    for name, array in stored.items():
        variables[name].output = array.astype(graph.dtype)
