"""im2col / col2im / pooling: Numba vs the NumPy reference on the LeNet shapes (batch 40), and each
backend's matmul vs BLAS (np.matmul) in GFLOP/s on the demos' shapes. Run: python benchmarks/kernels.py"""

from common import median_times, pin_threads

pin_threads()

import numpy as np  # noqa: E402

from tinygrad_cg import kernels  # noqa: E402
from tinygrad_cg.kernels import reference as R  # noqa: E402

N = kernels.implementation("numba")
from tinygrad_cg.kernels import numba_kernels as NK  # noqa: E402 - the raw kernels, for the max-pool row

rng = np.random.default_rng(0)

print("im2col + col2im, Numba vs NumPy reference (median of 9 blocks of 10 calls, 2 threads)")
for shape, k in (((40, 1, 28, 28), 5), ((40, 20, 12, 12), 5), ((200, 1, 28, 28), 5), ((200, 16, 14, 14), 5)):
    x = rng.random(shape, dtype=np.float32)
    pad = 2 if shape[0] == 200 else 0  # the e2e demo's 'same' convs
    cols = R.im2col(x, k, k, 1, pad)
    times = median_times({
        "numpy im2col": lambda x=x, k=k, pad=pad: R.im2col(x, k, k, 1, pad),
        "numba im2col": lambda x=x, k=k, pad=pad: N.im2col(x, k, k, 1, pad),
        "numpy col2im": lambda x=x, k=k, cols=cols, pad=pad: R.col2im(cols, x.shape, k, k, 1, pad),
        "numba col2im": lambda x=x, k=k, cols=cols, pad=pad: N.col2im(cols, x.shape, k, k, 1, pad),
    }, rounds=9, block=10)
    both_np = times["numpy im2col"] + times["numpy col2im"]
    both_nb = times["numba im2col"] + times["numba col2im"]
    print(f"  x {shape} {k}x{k} pad {pad}: im2col {1e3 * times['numpy im2col']:.2f} -> "
          f"{1e3 * times['numba im2col']:.2f} ms, col2im {1e3 * times['numpy col2im']:.2f} -> "
          f"{1e3 * times['numba col2im']:.2f} ms; together {both_np / both_nb:.1f}x faster")

print("\nmax-pool 2x2 forward + backward, Numba vs NumPy reference")
for shape in ((40, 20, 24, 24), (40, 50, 8, 8), (200, 16, 28, 28)):
    x = rng.random(shape, dtype=np.float32)
    out, arg = R.maxpool_forward(x, 2, 2)
    d = rng.random(out.shape, dtype=np.float32)
    times = median_times({
        "numpy": lambda x=x, d=d, arg=arg: R.maxpool_backward(d, R.maxpool_forward(x, 2, 2)[1], x.shape, 2, 2),
        "numba": lambda x=x, d=d, arg=arg: N.maxpool_backward(d, N.maxpool_forward(x, 2, 2)[1], x.shape, 2, 2),
    }, rounds=9, block=10)
    print(f"  x {shape}: {1e3 * times['numpy']:.2f} -> {1e3 * times['numba']:.2f} ms "
          f"({times['numpy'] / times['numba']:.1f}x)")

print("\nmax-pool 2x2 forward: the unrolled k = stride = 2 kernel vs the general Numba loop")
for shape in ((40, 20, 24, 24), (64, 16, 28, 28), (200, 16, 14, 14)):
    x = rng.random(shape, dtype=np.float32)
    oh, ow = shape[2] // 2, shape[3] // 2
    out, arg = np.empty((*shape[:2], oh, ow), np.float32), np.empty((*shape[:2], oh, ow), np.int32)
    times = median_times({
        "general": lambda x=x, out=out, arg=arg, oh=oh, ow=ow: NK._maxpool_forward(x, 2, 2, oh, ow, out, arg),
        "unrolled": lambda x=x, out=out, arg=arg, oh=oh, ow=ow: NK._maxpool2_forward(x, oh, ow, out, arg),
    }, rounds=9, block=10)
    print(f"  x {shape}: {1e3 * times['general']:.2f} -> {1e3 * times['unrolled']:.2f} ms "
          f"({times['general'] / times['unrolled']:.1f}x)")

print("\nmax-pool 2x2 backward, added into a delta: the k = stride = 2 kernel vs the general Numba loop")
for shape in ((40, 20, 24, 24), (64, 16, 28, 28), (800, 16, 28, 28)):
    x = rng.random(shape, dtype=np.float32)
    _, arg = N.maxpool_forward(x, 2, 2)
    d, grad = rng.random(arg.shape, dtype=np.float32), np.zeros(shape, np.float32)
    times = median_times({
        "general": lambda d=d, arg=arg, grad=grad: NK._maxpool_backward(d, arg, 2, 2, grad, False),
        "unrolled": lambda d=d, arg=arg, grad=grad: NK._maxpool2_backward(d, arg, grad, False),
    }, rounds=9, block=10)
    print(f"  x {shape}: {1e3 * times['general']:.2f} -> {1e3 * times['unrolled']:.2f} ms "
          f"({times['general'] / times['unrolled']:.1f}x)")

print("\nmatmul GFLOP/s: BLAS (np.matmul) vs the Numba kernel vs kernels.matmul (what the layers call)")
shapes = {
    "parity fwd (128x30 @ 30x300)": (128, 30, 300),
    "parity bwd outer (128x1 @ 1x300)": (128, 1, 300),
    "parity bwd dW (30x128 @ 128x300)": (30, 128, 300),
    "LeNet conv2 (3200x500 @ 500x50)": (3200, 500, 50),
    "LeNet fc1 (40x800 @ 800x500)": (40, 800, 500),
    "flat-act (256x100 @ 100x100)": (256, 100, 100),
    "pwl convex (100x100 @ 100x100)": (100, 100, 100),
}
for label, (m, k, n) in shapes.items():
    a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    # Numba's and OpenBLAS's thread pools spin for a while after a call and slow whichever library runs
    # next, so the Numba kernel is timed in its own phase rather than interleaved with BLAS.
    times = median_times({"blas": lambda a=a, b=b: a @ b, "layers": lambda a=a, b=b: kernels.matmul(a, b)},
                         rounds=9, block=20)
    times |= median_times({"numba": lambda a=a, b=b: N.matmul(a, b)}, rounds=9, block=20)
    flops = 2 * m * k * n
    rates = {name: flops / t / 1e9 for name, t in times.items()}
    print(f"  {label:36s} BLAS {rates['blas']:6.1f}  Numba {rates['numba']:6.1f}  layers {rates['layers']:6.1f}")
