"""One end-to-end training run (k = 1, 800 steps of 16 tuples, 9 evaluations: the quick plan when the figures
in benchmarks/README.md were taken, pinned here so they stay comparable) in this process, on a
worker of a LocalCluster as Dask starts it, and on a worker of ``demos.runner.local_cluster`` (no
MALLOC_TRIM_THRESHOLD_, no sampling profiler); all single-threaded, the three measured in turn, 3 rounds.
Run: PYTHONPATH=. python benchmarks/dask_workers.py   (needs the [cluster] extra)"""

import dataclasses
import os
import statistics
import time

from demos.runner import WORKER_ENV

os.environ.update(WORKER_ENV)  # this process single-threaded too, like the workers

from dask.distributed import Client, LocalCluster  # noqa: E402

from demos import e2e_vs_decomposition as demo  # noqa: E402
from demos.runner import local_cluster  # noqa: E402

PLAN = dataclasses.replace(demo.QUICK, iterations=800, eval_every=100)


def training_seconds() -> float:
    start = time.perf_counter()
    demo.train_run(PLAN, 7, 1, "end-to-end")
    return time.perf_counter() - start


def on(cluster) -> float:
    with Client(cluster) as client:
        return client.submit(training_seconds, pure=False).result()


if __name__ == "__main__":
    import dask

    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **WORKER_ENV}  # Dask's defaults kept
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        default = LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0")
    ours = local_cluster(1)
    contenders = {"in-process": training_seconds, "Dask's default worker": lambda: on(default),
                  "local_cluster worker": lambda: on(ours)}
    for run in contenders.values():  # warm up: imports, Numba's compile cache
        run()
    times = {name: [] for name in contenders}
    for _ in range(3):
        for name, run in contenders.items():
            times[name].append(run())
    base = statistics.median(times["in-process"])
    print("quick end-to-end training run (k = 1), single-threaded, median of 3")
    for name, samples in times.items():
        seconds = statistics.median(samples)
        print(f"  {name:24s} {seconds:6.1f} s   {seconds / base:4.2f}x in-process")
    default.close()
    ours.close()
