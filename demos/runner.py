"""The one place that schedules demo runs: in-process, on a Dask cluster, cached on disk, resumable.

A demo is settings + a **plan** (a list of ``Run``s, the same for every seed) + an assembly step. A run is
a plain module-level function ``function(settings, seed, **params) -> dict`` of arrays, numbers, strings,
lists and dicts; it may take a ``checkpoint`` keyword (a ``Checkpoint``) to save and resume its own
progress. The demo module keeps the science; this module only decides where and whether a run executes:

- **cache**: each finished run is written atomically to ``<out>/runs/<demo>/<key>-s<seed>-<hash>.npz``
  (arrays) with a ``.json`` beside it (run key, seed, settings, package version, seconds, and a SHA-256 of
  the ``.npz``). The hash covers exactly what determines the result: the demo, the function, the run's
  key and parameters, the seed, every field of the settings and the package version. A re-run loads what
  is there and computes only what is missing; a truncated, edited or foreign file is reported and
  recomputed, never trusted. ``fresh=True`` ignores the cache.
- **checkpoints inside a run**: a long run saves its state through ``Checkpoint`` every few minutes and,
  when restarted, continues from it; the checkpoint is removed once the run's result is cached.
- **where**: in-process one after another (Dask is then not imported), on a ``LocalCluster`` of N
  single-threaded worker processes (``workers=N``; ``SharedCluster`` keeps one for several plans), or on
  an existing cluster (``scheduler=ADDRESS``). The results are the same either way: every run draws its
  randomness from its own seed and key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import tinygrad_cg
from tinygrad_cg import io

# --- a run ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One independent piece of a demo's plan: ``function(settings, seed, **params)``."""

    key: str                                   # unique in the plan and readable: "train d=30"
    function: Callable[..., dict]              # module-level, so Dask can ship it to another process
    params: dict[str, Any] = field(default_factory=dict)

    def slug(self) -> str:
        """The key as a file-name part: letters, digits, '=' and '-' (no dots: they would read as suffixes)."""
        return re.sub(r"[^A-Za-z0-9=-]+", "_", self.key).strip("_")


def run_rng(seed: int, *parts: int) -> np.random.Generator:
    """The generator of one run: seeded by the demo's seed and integers naming the run, so a run's numbers
    do not depend on which other runs happened before it (or on which worker it ran)."""
    return np.random.default_rng([seed, *parts])


# --- trees of arrays on disk (no pickle) ----------------------------------------------------------

def save_tree(path: Path, tree: Any) -> None:
    """Write a tree of dicts (string keys), lists, arrays and plain scalars as one ``.npz``, atomically: the
    arrays as entries, the structure as JSON in the entry ``__tree__``."""
    arrays: dict[str, np.ndarray] = {}

    def encode(node):
        if isinstance(node, dict):
            return {"dict": {str(k): encode(v) for k, v in node.items()}}
        if isinstance(node, list | tuple):
            return {"list": [encode(v) for v in node]}
        if isinstance(node, np.ndarray | np.generic):
            name = f"a{len(arrays)}"
            arrays[name] = np.asarray(node)
            return {"array": name}
        if node is None or isinstance(node, bool | int | float | str):
            return {"value": node}
        raise TypeError(f"cannot store a {type(node).__name__} in a run result")

    skeleton = json.dumps(encode(tree))
    atomic_write(path, lambda handle: np.savez(handle, __tree__=np.array(skeleton), **arrays))


def load_tree(path: Path) -> Any:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}

    def decode(node):
        if "dict" in node:
            return {k: decode(v) for k, v in node["dict"].items()}
        if "list" in node:
            return [decode(v) for v in node["list"]]
        if "array" in node:
            return arrays[node["array"]]
        return node["value"]

    return decode(json.loads(str(arrays.pop("__tree__"))))


def atomic_write(path: Path, write: Callable[[Any], Any]) -> None:
    """``tinygrad_cg.io.atomic_write`` (temporary file, fsync, rename), creating the folder first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    io.atomic_write(path, write)


# --- the cache ------------------------------------------------------------------------------------

def settings_dict(settings: Any) -> dict:
    """The settings as JSON-able values (types and dtypes by name)."""
    return json.loads(json.dumps(dataclasses.asdict(settings), default=lambda v: getattr(v, "__name__", str(v))))


class ResultCache:
    """``<root>/<demo>/``: one ``.npz`` + ``.json`` per finished run, keyed by a hash of its inputs."""

    def __init__(self, root: Path, demo: str, settings: Any, report: Callable[[str], Any] = print):
        self.folder = Path(root) / demo
        self.demo, self.settings, self.report = demo, settings_dict(settings), report

    def identity(self, run: Run, seed: int) -> dict:
        # The demos run as ``demos.*`` in a checkout and as ``tinygrad_cg.demos.*`` when installed: one
        # identity for both, so a cache made either way serves the other.
        module = run.function.__module__.removeprefix("tinygrad_cg.")
        return {"demo": self.demo, "function": f"{module}.{run.function.__qualname__}",
                "key": run.key, "params": json.loads(json.dumps(run.params, default=str)), "seed": seed,
                "settings": self.settings, "version": tinygrad_cg.__version__}

    def stem(self, run: Run, seed: int) -> str:
        digest = hashlib.sha256(json.dumps(self.identity(run, seed), sort_keys=True).encode()).hexdigest()[:16]
        return f"{run.slug()}-s{seed}-{digest}"

    def paths(self, run: Run, seed: int) -> tuple[Path, Path]:
        stem = self.stem(run, seed)
        return self.folder / f"{stem}.npz", self.folder / f"{stem}.json"

    def checkpoint(self, run: Run, seed: int, every_seconds: float) -> Checkpoint:
        return Checkpoint(self.folder / f"{self.stem(run, seed)}.checkpoint.npz", every_seconds)

    def load(self, run: Run, seed: int) -> dict | None:
        """The cached result, or None when there is none or it cannot be trusted (then it is reported)."""
        data, meta = self.paths(run, seed)
        if not data.exists() and not meta.exists():
            return None
        try:
            record = json.loads(meta.read_text())
            if record["identity"] != json.loads(json.dumps(self.identity(run, seed), sort_keys=True)):
                raise ValueError("it was made by another run, settings or version")
            if hashlib.sha256(data.read_bytes()).hexdigest() != record["sha256"]:
                raise ValueError("its data does not match the checksum written with it")
            return load_tree(data)
        except Exception as exc:  # noqa: BLE001 - any damage means: recompute
            self.report(f"cache: ignoring {data.name} ({type(exc).__name__}: {exc}); recomputing {run.key!r}")
            return None

    def recorded_seconds(self, run: Run, seed: int) -> float:
        """The seconds a cached run took when it was computed (0 if its record is missing or unreadable)."""
        try:
            return float(json.loads(self.paths(run, seed)[1].read_text())["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0.0

    def save(self, run: Run, seed: int, result: dict, seconds: float) -> None:
        data, meta = self.paths(run, seed)
        save_tree(data, result)
        record = {"identity": self.identity(run, seed), "seconds": seconds,
                  "sha256": hashlib.sha256(data.read_bytes()).hexdigest()}
        atomic_write(meta, lambda handle: handle.write(json.dumps(record, indent=1, sort_keys=True).encode()))


# --- checkpoints inside a long run ----------------------------------------------------------------

class Checkpoint:
    """A long run's own resumable state: ``state = checkpoint.load()`` at the start (None the first time),
    ``checkpoint.maybe_save(make_state)`` every step (writes ``make_state()`` when ``every_seconds`` have
    passed since the last save). The state is a tree as in ``save_tree``; keep in it everything the run
    needs to continue identically (parameters, optimizer state, RNG state, the curve so far)."""

    def __init__(self, path: Path | None, every_seconds: float = 300.0):
        self.path, self.every_seconds, self.last = path, every_seconds, time.monotonic()

    def load(self) -> dict | None:
        if self.path is None or not self.path.exists():
            return None
        try:
            return load_tree(self.path)
        except Exception:  # noqa: BLE001 - a damaged checkpoint: start over rather than trust it
            return None

    def maybe_save(self, make_state: Callable[[], dict]) -> bool:
        if self.path is None or time.monotonic() - self.last < self.every_seconds:
            return False
        save_tree(self.path, make_state())
        self.last = time.monotonic()
        return True

    def clear(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


NO_CHECKPOINT = Checkpoint(None)


_inner_progress = False


def inner_progress() -> bool:
    """Whether a run may show its own progress bar: only in-process with progress on (not on Dask workers,
    whose bars would interleave)."""
    return _inner_progress


def call_run(run: Run, settings: Any, seed: int, checkpoint: Checkpoint) -> tuple[dict, float]:
    """Execute one run (in this process or on a Dask worker); returns (result, seconds)."""
    start = time.perf_counter()
    kwargs = dict(run.params)
    if "checkpoint" in inspect.signature(run.function).parameters:
        kwargs["checkpoint"] = checkpoint
    result = run.function(settings, seed, **kwargs)
    return result, time.perf_counter() - start


# --- executing a plan -----------------------------------------------------------------------------

WORKER_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "NUMBA_NUM_THREADS")}


@dataclass
class Execution:
    """How a plan runs: where (``workers``/``scheduler``), with which cache (``out``/``fresh``)."""

    out: Path
    fresh: bool = False
    workers: int | None = None
    scheduler: str | None = None
    show_progress: bool = True
    checkpoint_seconds: float = 300.0
    log: Callable[[str], Any] = field(default=lambda message: print(message, file=sys.stderr))
    # a LocalCluster shared by several plans (``python -m demos all``), started when a plan first has runs to
    # compute; wins over ``workers``, and ``execute`` leaves it running for the next plan
    shared: SharedCluster | None = None


def execute(demo: str, plan: Sequence[Run], settings: Any, seeds: Iterable[int], how: Execution
            ) -> tuple[dict[int, dict[str, dict]], dict[str, float]]:
    """Every run of ``plan`` for every seed: from the cache, else computed. Returns the results as
    ``results[seed][key]`` and counts {"cached", "computed", "run_seconds"}: the runs taken from the cache, the
    runs computed now, and the seconds all of them took when computed (from the cache's records)."""
    from .common import progress_bar

    keys = [run.key for run in plan]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{demo}: run keys must be unique, got {keys}")
    seeds = list(seeds)
    cache = ResultCache(how.out / "runs", demo, settings, report=how.log)
    results: dict[int, dict[str, dict]] = {seed: {} for seed in seeds}
    missing = []
    # run-major order: a plan lists its long runs first, so the workers take every seed's long runs before
    # the short ones, which then fill the gaps at the end (rather than one long run finishing alone)
    for run in plan:
        for seed in seeds:
            cached = None if how.fresh else cache.load(run, seed)
            if cached is not None:
                results[seed][run.key] = cached
            else:
                missing.append((run, seed))
    counts = {"cached": sum(len(r) for r in results.values()), "computed": len(missing)}
    bar = progress_bar(len(plan) * len(seeds), f"{demo} runs", how.show_progress, initial=counts["cached"])

    def finish(run: Run, seed: int, result: dict, seconds: float) -> None:
        cache.save(run, seed, result, seconds)
        cache.checkpoint(run, seed, how.checkpoint_seconds).clear()
        results[seed][run.key] = result
        bar.update(1)
        bar.set_postfix_str(f"cached {counts['cached']}, last: {run.key} (seed {seed}) {seconds:.0f} s")

    try:
        if how.workers is None and how.scheduler is None and how.shared is None:
            global _inner_progress
            _inner_progress = how.show_progress
            for run, seed in missing:
                bar.set_postfix_str(f"running {run.key} (seed {seed})")
                finish(run, seed, *call_run(run, settings, seed, cache.checkpoint(run, seed, how.checkpoint_seconds)))
        elif missing:
            _execute_on_dask(missing, settings, cache, how, finish)
    finally:
        _inner_progress = False
        bar.close()
    counts["run_seconds"] = sum(cache.recorded_seconds(run, seed) for run in plan for seed in seeds)
    return results, counts


CONNECT_SECONDS = 10  # how long --scheduler waits for the scheduler to answer


class ClusterError(RuntimeError):
    """The runs cannot go where they were sent: Dask is not installed, or no scheduler answers at the
    address. The command line reports it in one line (exit status 2)."""


def local_cluster(workers: int):
    """A Dask ``LocalCluster`` of ``workers`` processes on loopback, one thread each and single-threaded
    BLAS/Numba inside each: N workers use N cores. (Also for several plans in a row: pass its
    ``scheduler_address`` as ``scheduler=``; the tests share one this way.)"""
    import dask
    from dask.distributed import LocalCluster

    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **WORKER_ENV}
    # Dask's default MALLOC_TRIM_THRESHOLD_=65536 makes glibc hand every freed block above 64 KiB back to
    # the OS, so each step's MB-sized temporaries come back as fresh, page-faulting memory: a quick e2e
    # training run took 24 s instead of 8 s. Without it glibc keeps its adaptive thresholds.
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    # The worker's sampling profiler (every 10 ms) takes the GIL from a step's short NumPy calls: ~15% more.
    settings = {"distributed.nanny.pre-spawn-environ": environ, "distributed.worker.profile.enabled": False}
    # A cluster started earlier in this process with Dask's defaults leaves the variable in os.environ,
    # where our workers would inherit it: keep it out while they spawn.
    inherited = os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    try:
        with dask.config.set(settings):
            # loopback only; the scheduler's HTTP server on a free port (None means the default 8787, which
            # a second cluster on the same machine would find taken)
            return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                dashboard_address="127.0.0.1:0")
    finally:
        if inherited is not None:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = inherited


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it, else every core)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def dask_installed() -> bool:
    """Whether ``dask.distributed`` can be imported (the ``cluster`` extra), without importing it."""
    import importlib.util

    return importlib.util.find_spec("distributed") is not None


class SharedCluster:
    """One ``local_cluster(workers)`` for several plans in a row, started on first use (a plan whose runs are
    all cached starts nothing) and closed by ``close()``: ``python -m demos all`` pays for the workers'
    start and their imports once, not once a demo."""

    def __init__(self, workers: int):
        self.workers, self._cluster = workers, None

    @property
    def address(self) -> str:
        if self._cluster is None:
            self._cluster = local_cluster(self.workers)
        return self._cluster.scheduler_address

    @property
    def started(self) -> bool:
        return self._cluster is not None

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _execute_on_dask(missing, settings, cache: ResultCache, how: Execution, finish) -> None:
    """Submit every missing run; cache each result as soon as it arrives (so an interruption loses only
    the runs in flight)."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise ClusterError("--workers/--scheduler need Dask: pip install 'tinygrad_cg[cluster]'") from None

    if how.shared is not None:
        client, cluster = Client(how.shared.address), None
    elif how.scheduler is not None:
        try:
            client, cluster = Client(how.scheduler, timeout=CONNECT_SECONDS), None
        except (OSError, ValueError, TypeError) as exc:  # timed out, refused, or not an address at all
            raise ClusterError(f"cannot reach a Dask scheduler at {how.scheduler!r} within {CONNECT_SECONDS} s "
                               f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no reply'}); "
                               "check that `dask scheduler` runs there and that the address and port are right"
                               ) from None
    else:
        cluster = local_cluster(how.workers)
        client = Client(cluster)
    try:
        futures = {client.submit(call_run, run, settings, seed,
                                 cache.checkpoint(run, seed, how.checkpoint_seconds), pure=False): (run, seed)
                   for run, seed in missing}
        for future in as_completed(futures):
            run, seed = futures[future]
            finish(run, seed, *future.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# --- --set key=value --------------------------------------------------------------------------------

def apply_overrides(settings: Any, assignments: Sequence[str]) -> tuple[Any, dict[str, Any]]:
    """``settings`` with ``key=value`` assignments applied, each value parsed as the field's current type
    (int, float, bool, str, a tuple as comma-separated values, a NumPy scalar type by name). Raises
    ``ValueError`` naming an unknown key (and the known ones) or a value that does not parse."""
    fields = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    changes = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"--set expects key=value, got {assignment!r}")
        if key not in fields:
            raise ValueError(f"--set: unknown setting {key!r}; the settings are: {', '.join(fields)}")
        changes[key] = _parse_like(fields[key], text.strip(), key)
    return dataclasses.replace(settings, **changes), changes


def _parse_like(current: Any, text: str, key: str) -> Any:
    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError("expected true or false")
            return text.lower() in ("true", "1", "yes")
        if isinstance(current, tuple):
            element = current[0] if current else float
            parts = [p for p in text.split(",") if p.strip()]
            return tuple(_parse_like(element, p.strip(), key) for p in parts)
        if isinstance(current, type):
            return np.dtype(text).type
        if isinstance(current, int | float | str):
            return type(current)(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"--set {key}={text}: not a valid {type(current).__name__} ({exc})") from None
    raise ValueError(f"--set {key}: settings of type {type(current).__name__} cannot be set from the command line")
