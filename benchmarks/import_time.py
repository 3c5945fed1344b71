"""Wall time of ``import tinygrad_cg`` in a fresh interpreter (median of 7). Run: python benchmarks/import_time.py"""

import subprocess
import sys

code = "import time; t = time.perf_counter(); import tinygrad_cg; print(time.perf_counter() - t)"
times = sorted(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(7))
numpy_only = sorted(float(subprocess.run([sys.executable, "-c", code.replace("tinygrad_cg", "numpy")],
                                         capture_output=True, text=True, check=True).stdout) for _ in range(7))
print(f"import tinygrad_cg: {times[3]:.3f} s (numpy alone: {numpy_only[3]:.3f} s); numba is not imported")
