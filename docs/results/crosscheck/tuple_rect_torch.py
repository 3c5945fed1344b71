"""An independent PyTorch transliteration of the authors' ``tuple_rect.py`` + ``read_rect_data.py``.

Written from the authors' scripts (``shakedshammah/failures_of_DL``), not from this project's ``demos/``, and
importing nothing of ``tinygrad_cg``: it is the cross-check that the reproduction's end-to-end results are the
experiment's, not the engine's. It needs ``pip install torch`` (never a dependency of the library).

The TensorFlow 1 semantics it reproduces, one by one:

1. **Data** (``RectTupleData``): 500,000 tuples pre-generated per k and read in order, wrapping to the start
   when a read comes up short (``next_batch``); every evaluation step also reads 2,000 *training* tuples for the
   script's TRAIN line, which moves the reader on (done here too; their accuracy is not needed). A line image:
   theta ~ U(0, pi), centre = 28 U(0, 1)^2, length ~ U(5, 23); for l in 0..int(length // 2) - 1 and sign -1, +1
   the point ``(centre + sign * l * (cos theta, sin theta)).astype(int32)`` (truncation toward 0) is set to 1
   where inside the image, its *first* coordinate the row. The tuple's target is ``-1 + 2 * (number of lines
   with theta < pi/2 mod 2)``, the per-image label +1 if theta < pi/2 else -1. The held-out set is a separate
   ``RectTupleData(n=2000)``, read whole at every evaluation. Images are float32 0/1 (stored here as uint8).
2. **Network**: ``conv_maxpool`` twice: ``tf.nn.conv2d`` (cross-correlation, stride 1, 'SAME': pad 2 on each
   side for 5x5) + bias, then ``tf.nn.max_pool`` 2x2 stride 2 'SAME' (no padding on 28 and 14), no ReLU; the
   flattening of the (N, 7, 7, 16) **NHWC** tensor; ``Affine`` 784 -> 50 ReLU, 50 -> 100 ReLU, 100 -> 1 (the
   score); ``tf.sigmoid`` of the scores reshaped to (N, k) in tuple order; Affine k -> 100 ReLU, 100 -> 1.
3. **Init**: ``tf.truncated_normal`` (redrawn beyond 2 standard deviations) with stddev
   1 / sqrt(``input_channels``), where ``input_channels`` is the last axis of the layer's input *before* the
   reshape to NHWC: 28 (the image's width) for conv1, 16 for conv2, the fan-in for the Affine layers; every
   bias 0.
4. **Loss**: ``tf.reduce_mean(tf.nn.relu(1 - p_e2e * Y))``, the hinge on the tuple score (plus the hinge on
   each image's score against its label with ``--dec``).
5. **Optimizer**: ``tf.train.AdamOptimizer(learning_rate=0.001, beta1=0.9, beta2=0.99, epsilon=1e-5)``, whose
   update (``ApplyAdam``) is ``alpha = lr sqrt(1 - beta2_power) / (1 - beta1_power)``, ``m += (g - m)(1 -
   beta1)``, ``v += (g^2 - v)(1 - beta2)``, ``w -= alpha m / (sqrt(v) + epsilon)``, with the beta powers kept
   as float32 variables multiplied by beta after each step (``TensorFlowAdam`` below; ``--adam torch`` runs
   ``torch.optim.Adam`` instead, for the ablation).
6. **Loop**: ``for step in range(MAX_STEPS + 1)``: one training step on the next 200 tuples, then, when
   ``step % 100 == 0``, the 0-1 accuracy ``mean(p_e2e * Y > 0)`` on the 2,000 held-out tuples (a score of
   exactly 0 counts as wrong). The accuracy recorded at "iteration" ``step`` is thus after ``step + 1`` updates.
7. float32 throughout; one CPU thread (``torch.set_num_threads(1)``) unless told otherwise.

Not reproduced: the script's unseeded ``np.random`` (here a seeded generator per run: data and held-out set
from ``numpy.random.default_rng([seed, k, 1|2])``, weights from ``torch.manual_seed(seed)``), its binary files on
disk (kept in memory) and its log file.

Run: ``python docs/results/crosscheck/tuple_rect_torch.py --k 2 --seed 0 --max-steps 2500``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from torch import nn

IM_SIZE = 28
POOL_TUPLES = 500_000      # read_rect_data.N
TEST_TUPLES = 2_000        # BATCH_SIZE * 10
BATCH_SIZE = 200
PRINT_ME = 100


# --- read_rect_data.py ---------------------------------------------------------------------------

def rect_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n line images (uint8, (n, 28, 28)) and their theta < pi/2 flags, as ``RectTupleData`` draws them."""
    theta = rng.uniform(0, np.pi, size=n)
    centre = IM_SIZE * rng.uniform(0, 1, size=(n, 2))
    length = rng.uniform(5, IM_SIZE - 5, size=n)
    return draw_lines(theta, centre, length), theta < np.pi / 2


def draw_lines(theta: np.ndarray, centre: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The script's per-pixel loop, vectorised over images (same formula, same truncation, same bounds):
    for l in range(int(length // 2)), sign in (-1, 1): ``pt = (centre + sign * unit_vec * l).astype(int32)``,
    ``X[pt[0], pt[1]] = 1`` when 0 <= pt < 28."""
    n = len(theta)
    half = (length // 2).astype(int)
    images = np.zeros((n, IM_SIZE, IM_SIZE), dtype=np.uint8)
    unit = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    for l in range(int(half.max(initial=0))):
        on = half > l
        for sign in (-1, 1):
            point = (centre + sign * unit * l).astype(np.int32)      # truncation toward zero, as astype does
            inside = on & np.all((point >= 0) & (point < IM_SIZE), axis=1)
            rows = np.flatnonzero(inside)
            images[rows, point[rows, 0], point[rows, 1]] = 1         # X[k, pt[0], pt[1]] = 1
    return images


class RectTupleData:
    """``read_rect_data.RectTupleData`` in memory: n tuples of k images, read in order, wrapping."""

    def __init__(self, len_tuple: int, n: int, rng: np.random.Generator):
        self.k, self.n, self.cursor = len_tuple, n, 0
        images, up = rect_images(n * len_tuple, rng)
        self.images = images.reshape(n, len_tuple, IM_SIZE, IM_SIZE)
        self.y_sup = np.where(up, 1, -1).astype(np.int32).reshape(n, len_tuple)
        self.y = (-1 + 2 * np.mod(up.reshape(n, len_tuple).sum(axis=1), 2)).astype(np.float32)

    def next_batch(self, batch: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.cursor + batch > self.n:  # a short read: seek(0) and read again from the start
            self.cursor = 0
        rows = slice(self.cursor, self.cursor + batch)
        self.cursor += batch
        x = torch.from_numpy(self.images[rows].reshape(-1, IM_SIZE, IM_SIZE).astype(np.float32))
        return x, torch.from_numpy(self.y[rows]), torch.from_numpy(self.y_sup[rows].reshape(-1).astype(np.float32))


# --- tuple_rect.py ---------------------------------------------------------------------------------

def truncated_normal(shape: tuple[int, ...], stddev: float) -> nn.Parameter:
    """``tf.truncated_normal``: N(0, stddev^2), values beyond 2 standard deviations drawn again."""
    tensor = torch.empty(shape)
    nn.init.trunc_normal_(tensor, mean=0.0, std=stddev, a=-2 * stddev, b=2 * stddev)
    return nn.Parameter(tensor)


class ConvMaxpool(nn.Module):
    """``conv_maxpool``: 'SAME' conv (HWIO kernel, stddev 1/sqrt(input_channels)) + bias, 2x2 max-pool."""

    def __init__(self, input_channels: int, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.weights = truncated_normal((kernel_size, kernel_size, in_channels, out_channels),
                                        1.0 / math.sqrt(float(input_channels)))
        self.biases = nn.Parameter(torch.zeros(out_channels))
        self.pad = kernel_size // 2

    def forward(self, x_nhwc: torch.Tensor) -> torch.Tensor:
        x = x_nhwc.permute(0, 3, 1, 2)                               # NHWC -> NCHW for torch's conv
        kernel = self.weights.permute(3, 2, 0, 1)                    # HWIO -> OIHW
        h = nn.functional.conv2d(x, kernel, padding=self.pad) + self.biases[None, :, None, None]
        return nn.functional.max_pool2d(h, 2, 2).permute(0, 2, 3, 1)  # back to NHWC


class Affine(nn.Module):
    """``Affine``: x W + b, W (in, out) with stddev 1/sqrt(in), b = 0; ReLU unless ``relu=False``."""

    def __init__(self, input_channels: int, out_channels: int, relu: bool = True):
        super().__init__()
        self.weights = truncated_normal((input_channels, out_channels), 1.0 / math.sqrt(float(input_channels)))
        self.biases = nn.Parameter(torch.zeros(out_channels))
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x @ self.weights + self.biases
        return torch.relu(h) if self.relu else h


class TupleRect(nn.Module):
    """The graph of ``run_SNR_estimation`` (the script's training function), for tuples of ``len_tuple``."""

    def __init__(self, len_tuple: int):
        super().__init__()
        self.len_tuple = len_tuple
        self.p1 = ConvMaxpool(IM_SIZE, 1, 16, 5)    # the input (N, 28, 28): input_channels = 28
        self.p2 = ConvMaxpool(16, 16, 16, 5)
        self.p3 = Affine(7 * 7 * 16, 50)
        self.p4 = Affine(50, 100)
        self.score = Affine(100, 1, relu=False)
        self.p_middle = Affine(len_tuple, 100)
        self.p_e2e = Affine(100, 1, relu=False)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N k, 28, 28) images -> (the images' scores (N k,), the tuples' scores (N,))."""
        p2 = self.p2(self.p1(images[..., None]))                     # new_shape = input_shape + [1]
        p2_flat = p2.reshape(-1, 7 * 7 * 16)                         # NHWC order, as tf.reshape
        score = self.score(self.p4(self.p3(p2_flat)))
        p_e2e = self.p_e2e(self.p_middle(torch.sigmoid(score).reshape(-1, self.len_tuple)))
        return score.reshape(-1), p_e2e.reshape(-1)


class TensorFlowAdam(torch.optim.Optimizer):
    """``tf.train.AdamOptimizer``'s update (ApplyAdam), in float32 like the graph:

        alpha = lr sqrt(1 - beta2_power) / (1 - beta1_power)
        m += (g - m)(1 - beta1);  v += (g^2 - v)(1 - beta2);  w -= alpha m / (sqrt(v) + epsilon)

    beta1_power and beta2_power start at beta1 and beta2 and are multiplied by them after every step."""

    def __init__(self, params, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.99,
                 epsilon: float = 1e-5):
        super().__init__(params, dict(lr=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon))
        self.beta1_power = torch.tensor(beta1, dtype=torch.float32)
        self.beta2_power = torch.tensor(beta2, dtype=torch.float32)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, beta1, beta2, epsilon = (torch.tensor(group[name], dtype=torch.float32)
                                         for name in ("lr", "beta1", "beta2", "epsilon"))
            alpha = lr * torch.sqrt(1 - self.beta2_power) / (1 - self.beta1_power)
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if not state:
                    state["m"], state["v"] = torch.zeros_like(param), torch.zeros_like(param)
                m, v, g = state["m"], state["v"], param.grad
                m += (g - m) * (1 - beta1)
                v += (g * g - v) * (1 - beta2)
                param -= m * alpha / (torch.sqrt(v) + epsilon)
        self.beta1_power *= self.param_groups[0]["beta1"]
        self.beta2_power *= self.param_groups[0]["beta2"]


def make_optimizer(model: nn.Module, adam: str, lr: float) -> torch.optim.Optimizer:
    if adam == "tensorflow":
        return TensorFlowAdam(model.parameters(), learning_rate=lr, beta1=0.9, beta2=0.99, epsilon=1e-5)
    if adam == "torch":
        return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99), eps=1e-5)
    raise ValueError(f"adam must be 'tensorflow' or 'torch', not {adam!r}")


def optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """The optimizer's buffers as NumPy arrays, parameter by parameter (and TF's beta powers)."""
    entries = [{name: value.numpy().copy() for name, value in optimizer.state[p].items()}
               for p in model.parameters()]
    powers = ([float(optimizer.beta1_power), float(optimizer.beta2_power)]
              if isinstance(optimizer, TensorFlowAdam) else [])
    return dict(entries=entries, powers=powers)


def load_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer, state: dict) -> None:
    for p, entry in zip(model.parameters(), state["entries"], strict=True):
        optimizer.state[p] = {name: torch.from_numpy(np.array(value)) for name, value in entry.items()}
    if isinstance(optimizer, TensorFlowAdam):
        optimizer.beta1_power, optimizer.beta2_power = (torch.tensor(v, dtype=torch.float32)
                                                         for v in state["powers"])


def train(len_tuple: int, seed: int, max_steps: int = 20_000, dec: bool = False, adam: str = "tensorflow",
          lr: float = 0.001, learned: float = 0.8, consecutive: int = 3, pool_tuples: int = POOL_TUPLES,
          stop_when_learned: bool = True, threads: int = 1, log=None, checkpoint=None) -> dict:
    """The script's training loop for one k. Stops early once ``consecutive`` evaluations in a row are at or
    above ``learned`` (``stop_when_learned``). Returns the evaluated steps, the held-out accuracies, the first
    step of the learned streak (-1 if none) and the seconds of the training steps.

    ``checkpoint``: any object with ``load() -> dict | None`` and ``maybe_save(make_state)`` (the project's
    ``demos.runner.Checkpoint`` fits); a restarted run continues from the saved step with the same numbers."""
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    data_set = RectTupleData(len_tuple, pool_tuples, np.random.default_rng([seed, len_tuple, 1]))
    data_set_test = RectTupleData(len_tuple, TEST_TUPLES, np.random.default_rng([seed, len_tuple, 2]))
    model = TupleRect(len_tuple)
    optimizer = make_optimizer(model, adam, lr)
    steps, accuracy, seconds, streak, first = [], [], 0.0, 0, 0
    if checkpoint is not None and (state := checkpoint.load()) is not None:
        with torch.no_grad():
            for p, value in zip(model.parameters(), state["parameters"], strict=True):
                p.copy_(torch.from_numpy(np.array(value)))
        load_optimizer_state(model, optimizer, state["optimizer"])
        data_set.cursor, first = int(state["cursor"]), int(state["step"]) + 1
        steps, accuracy, seconds = list(state["steps"]), list(state["accuracy"]), float(state["seconds"])
        streak = int(state["streak"])

    def snapshot(step: int) -> dict:
        return dict(parameters=[p.detach().numpy().copy() for p in model.parameters()],
                    optimizer=optimizer_state(model, optimizer), cursor=data_set.cursor, step=step,
                    steps=list(steps), accuracy=list(accuracy), seconds=seconds, streak=streak)

    for step in range(first, max_steps + 1):
        x, y, y_sup = data_set.next_batch(BATCH_SIZE)
        start = time.perf_counter()
        score, p_e2e = model(x)
        loss = torch.relu(1 - p_e2e * y).mean()
        if dec:
            loss = loss + torch.relu(1 - score * y_sup).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seconds += time.perf_counter() - start
        if step % PRINT_ME == 0:
            x, y, _ = data_set_test.next_batch(TEST_TUPLES)
            with torch.no_grad():
                zero_one = float(((model(x)[1] * y) > 0).float().mean())
            data_set.next_batch(TEST_TUPLES)  # the TRAIN line's read moves the training reader on
            steps.append(step)
            accuracy.append(zero_one)
            streak = streak + 1 if zero_one >= learned else 0
            if log is not None:
                log(f"TEST iter {step} AccuracyE2E {zero_one:.4f}")
            if stop_when_learned and streak >= consecutive:
                break
        if checkpoint is not None:
            checkpoint.maybe_save(lambda step=step: snapshot(step))
    first = steps[len(steps) - streak] if streak >= consecutive else -1
    return dict(iterations=np.array(steps), accuracy=np.array(accuracy), learned_at=first, step_seconds=seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python docs/results/crosscheck/tuple_rect_torch.py",
                                     description="tuple_rect.py in PyTorch with TensorFlow 1's semantics (see the "
                                                 "module docstring): train end-to-end on k-tuples.")
    parser.add_argument("--k", type=int, default=2, help="images per tuple (LEN_TUPLE)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    parser.add_argument("--max-steps", type=int, default=20_000, help="MAX_STEPS (the script's 20,000)")
    parser.add_argument("--dec", action="store_true", help="add the per-image hinge loss (decomposition)")
    parser.add_argument("--adam", choices=("tensorflow", "torch"), default="tensorflow",
                        help="TF1's Adam (the authors') or torch.optim.Adam (for the ablation)")
    parser.add_argument("--no-early-stop", action="store_true",
                        help="train all MAX_STEPS even after 3 evaluations in a row at or above 0.8")
    args = parser.parse_args(argv)
    result = train(args.k, args.seed, args.max_steps, args.dec, args.adam, stop_when_learned=not args.no_early_stop,
                   log=print)
    print(f"learned at {result['learned_at']} (-1: not learned); {result['step_seconds']:.0f} s of steps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
