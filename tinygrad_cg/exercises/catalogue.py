"""The exercises: which function of the library each one blanks, what it teaches, and its hints.

The catalogue is data. ``workspace.start`` reads it to write a learner's copy of the library with the
exercises' function bodies replaced by ``raise NotImplementedError(...)`` (their docstrings kept), and
``grader`` checks each exercise by the same id. The library's own files carry no markers: a target is
named by its file (relative to the package) and its qualified name (``Square.backward``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """One exercise.

    Attributes:
        id: "1.3": section (the lectures' order) and number.
        title: what to write, in a few words.
        targets: (file, qualified name) of each function whose body the learner writes.
        teaches: the idea it practises.
        slide: where the lecture shows it.
        hints: a ladder, revealed one at a time (the formula, the shapes, the NumPy idiom).
        hidden: other functions blanked with it because they would give the answer away (not graded).
    """

    id: str
    title: str
    targets: tuple[tuple[str, str], ...]
    teaches: str
    slide: str
    hints: tuple[str, ...]
    hidden: tuple[tuple[str, str], ...] = ()

    @property
    def marker(self) -> str:
        """The pytest marker of its test in the workspace: ``ex_1_3``."""
        return "ex_" + self.id.replace(".", "_")


ARITHMETIC, GRAPH, STEPS = "layers/arithmetic.py", "graph.py", "steps.py"
ACTIVATIONS, LOSSES, REFERENCE = "layers/activations.py", "layers/losses.py", "kernels/reference.py"
ADAPTIVE, SGD = "optim/adaptive.py", "optim/sgd.py"

EXERCISES: tuple[Exercise, ...] = (
    Exercise("1.1", "Multiply.backward", ((ARITHMETIC, "Multiply.backward"),),
             "the chain rule for a product: each factor's delta is the other factor times the delta",
             "lecture 'computation graph': the least-squares graph p = w x",
             ("o = a * b, so d o / d a = b and d o / d b = a: delta_a += delta * b, delta_b += delta * a.",
              "a.delta has a's shape. When a is a 0-d scalar used against a whole array (the lecture's w x), "
              "its delta is the sum over that array: _sum_to_shape(grad, a.delta.shape) does it.",
              "a, b = self.inputs; if a.needs_delta: a.delta += _sum_to_shape(self.delta * b.output, "
              "a.delta.shape); the same for b with a.output.")),
    Exercise("1.2", "Subtract.backward", ((ARITHMETIC, "Subtract.backward"),),
             "a difference passes its delta on, with a minus sign for what is subtracted",
             "lecture 'computation graph': the residual r = p - y",
             ("o = a - b: d o / d a = 1, d o / d b = -1.",
              "Each input's delta has its own shape; a 0-d operand gets the sum (_sum_to_shape).",
              "a.delta += _sum_to_shape(self.delta, a.delta.shape); b.delta -= the same.")),
    Exercise("1.3", "Square.backward", ((ARITHMETIC, "Square.backward"),),
             "the derivative of x^2 times the delta that arrives",
             "lecture 'computation graph': the loss s = r^2",
             ("d (x^2) / d x = 2 x.",
              "x.delta, x.output and self.delta all have x's shape.",
              "x = self.inputs[0]; x.delta += 2 * x.output * self.delta  (+=, never =).")),
    Exercise("2.1", "topological_sort", ((GRAPH, "topological_sort"),),
             "numbering the layers so that every layer comes after its inputs",
             "lecture 'computation graph': the numbered layers 0..T-1",
             ("Collect every ancestor of the outputs; a layer is ready once all its inputs are placed.",
              "Kahn's algorithm: count each layer's unplaced inputs; start from the layers with none; break ties "
              "by layer.creation_index (heapq) so x, y, w, p, r, s are numbered 0..5 as created.",
              "ready = [(layer.creation_index, id(layer)) for ... if pending == 0]; heapq.heappop(ready); for each "
              "consumer: pending -= 1, push when 0. Raise GraphError if some layers were never placed (a cycle).")),
    Exercise("2.2", "Graph.backward", ((GRAPH, "Graph.backward"),),
             "the backward loop: the loss's delta is 1, then every layer in reverse order pushes delta back",
             "lecture 'computation graph': backprop as a loop over the numbered layers",
             ("Every delta starts at 0, the loss's at 1; then for t = T-1 .. 0 layer t adds into its inputs.",
              "self._start_backward() zeroes the deltas, sets the loss's to 1 and returns False if there is "
              "nothing to do; self._backward_order lists the layers to visit, already reversed.",
              "if not self._start_backward(): return; then for layer in self._backward_order: layer.backward()."),
             hidden=((STEPS, "backward_steps"),)),
    Exercise("3.1", "Affine.backward", (("layers/affine.py", "Affine.backward"),),
             "matrix calculus of O = X W + b: which product, which transpose",
             "lecture 'one hidden layer': the affine layer's three deltas",
             ("With D = self.delta (N, n_out): delta_X += D W^T, delta_W += X^T D, delta_b += the sum of D's rows.",
              "Check the shapes: X (N, n_in), W (n_in, n_out), D (N, n_out); D W^T is (N, n_in), X^T D is "
              "(n_in, n_out), b's delta (n_out,).",
              "x.delta += self.delta @ W.output.T; W.delta += x.output.T @ self.delta; "
              "b.delta += self.delta.sum(axis=0).")),
    Exercise("4.1", "ReLU.backward", ((ACTIVATIONS, "ReLU.backward"),),
             "a gate: the delta passes where the unit was on",
             "lecture 'activations': ReLU",
             ("d max(0, x) / d x = 1 where x > 0, else 0.",
              "self.output > 0 is the same mask as x > 0 and has x's shape.",
              "x.delta += self.delta * (self.output > 0)."),
             hidden=((REFERENCE, "relu_backward"),)),
    Exercise("4.2", "Sigmoid.backward", ((ACTIVATIONS, "Sigmoid.backward"),),
             "the sigmoid's derivative written with its own output",
             "lecture 'activations': sigmoid",
             ("sigma'(x) = sigma(x) (1 - sigma(x)).",
              "self.output already holds sigma(x): no exp needed.",
              "x.delta += self.delta * self.output * (1 - self.output).")),
    Exercise("4.3", "Tanh.backward", ((ACTIVATIONS, "Tanh.backward"),),
             "tanh's derivative from its output",
             "lecture 'activations': tanh",
             ("tanh'(x) = 1 - tanh(x)^2.",
              "self.output is tanh(x), of x's shape.",
              "x.delta += self.delta * (1 - self.output ** 2).")),
    Exercise("5.1", "HingeLoss.backward", ((LOSSES, "HingeLoss.backward"),),
             "a subgradient, and the mean over the batch",
             "the paper's Section 2: the hinge loss max(0, 1 - y s)",
             ("L = (1/N) sum_n max(0, 1 - y_n s_n): dL/ds_n = -y_n / N where y_n s_n < 1, else 0.",
              "self.active (computed in forward) is the mask y s < 1; self.batch_size() is N; the loss is a mean, "
              "so every term carries 1/N.",
              "scale = -self.delta / self.batch_size(); s.delta += scale * y.output * self.active (and y's delta "
              "with s.output, if y.needs_delta).")),
    Exercise("5.2", "LogisticLoss.backward", ((LOSSES, "LogisticLoss.backward"),),
             "the logistic loss's gradient, with the sigmoid of the margin",
             "the lecture's losses: log(1 + exp(-y s))",
             ("With z = y s: d log(1 + e^-z) / dz = -sigma(-z); then dz/ds = y; and the mean gives 1/N.",
              "forward stored self.sigma_minus_z = sigma(-y s) (computed stably); N = self.batch_size().",
              "scale = -self.delta / self.batch_size(); s.delta += scale * y.output * self.sigma_minus_z.")),
    Exercise("5.3", "SoftmaxCrossEntropy.backward", ((LOSSES, "SoftmaxCrossEntropy.backward"),),
             "softmax and cross-entropy together have the simplest gradient: p - onehot",
             "the lecture's losses: multiclass log-loss",
             ("d L / d z = (p - onehot(label)) / N for the mean over N examples.",
              "self.probabilities is p (N, classes); self.index the labels (N,); the labels get no delta.",
              "grad = self.probabilities.copy(); grad[np.arange(n), self.index] -= 1; "
              "logits.delta += grad * (self.delta / n).")),
    Exercise("6.1", "im2col", ((REFERENCE, "im2col"),),
             "convolution as a matrix product: every window becomes a row",
             "lecture 'convolutional networks': conv as Im2Col + Affine",
             ("Row (n, oy, ox) holds the window whose top-left corner is (oy stride - padding, ox stride - "
              "padding), its C kh kw entries in (c, i, j) order.",
              "Pad the image with zeros first (np.pad); OH = (H + 2 padding - kh) // stride + 1.",
              "numpy.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))[:, :, ::stride, "
              "::stride] gives (N, C, OH, OW, kh, kw); transpose to (N, OH, OW, C, kh, kw) and reshape.")),
    Exercise("6.2", "col2im", ((REFERENCE, "col2im"),),
             "the backward of im2col: add every patch entry back where it came from (windows overlap)",
             "lecture 'convolutional networks': Im2Col's backward pass",
             ("col2im is the adjoint of im2col: where windows overlap, their contributions add up.",
              "cols is (N OH OW, C kh kw); reshape to (N, OH, OW, C, kh, kw); accumulate into a zero-padded "
              "(N, C, H + 2 ph, W + 2 pw) array, then cut the padding off.",
              "for i in range(kh): for j in range(kw): padded[:, :, i:i + stride*oh:stride, j:j + stride*ow:stride] "
              "+= patches[:, :, i, j]  (with patches transposed to (N, C, kh, kw, OH, OW)).")),
    Exercise("6.3", "conv as Im2Col + Affine", (("nn.py", "im2col_conv"),),
             "a convolution is a matrix product of the windows with the flattened kernel, folded back into images",
             "lecture 'convolutional networks': conv as Im2Col + Affine",
             ("Rows = windows (Im2Col), times the kernel as a (C_in kh kw, c_out) matrix, plus b; then back to NCHW.",
              "L.Im2Col(x, kh, kw, stride, padding) gives (N OH OW, C_in kh kw) and knows out_hw = (OH, OW); "
              "L.FlattenKernel(K) gives (C_in kh kw, c_out); L.RowsToImages(rows, OH, OW, name=name) folds back.",
              "cols = L.Im2Col(x, kh, kw, stride, padding); rows = L.Affine(cols, L.FlattenKernel(K), b); "
              "return L.RowsToImages(rows, *cols.out_hw, name=name).")),
    Exercise("7.1", "maxpool_backward", ((REFERENCE, "maxpool_backward"),),
             "max-pooling routes each window's delta to the one entry that won, the first one on ties",
             "lecture 'convolutional networks': pooling",
             ("Only the argmax of each window gets the window's delta; the others get 0.",
              "argmax (N, C, OH, OW) is the row-major index in 0..k*k-1 within each window: its row is "
              "oy * stride + argmax // k, its column ox * stride + argmax % k. Windows may overlap: add.",
              "np.add.at(grad, (n_index, c_index, rows, cols), delta) adds even where two windows pick the "
              "same entry (a plain grad[...] += would keep only one).")),
    Exercise("7.2", "avgpool_backward", ((REFERENCE, "avgpool_backward"),),
             "average pooling spreads each window's delta evenly over its k^2 entries",
             "lecture 'convolutional networks': pooling",
             ("Each entry of a window gets delta / k^2.",
              "grad has x's shape (x_shape); delta (N, C, OH, OW).",
              "for i in range(k): for j in range(k): grad[:, :, i:i + stride*oh:stride, j:j + stride*ow:stride] "
              "+= delta / (k * k).")),
    Exercise("8.1", "SGD with momentum and Nesterov", ((SGD, "SGD.velocity"), (SGD, "SGD.update")),
             "the three first-order updates: plain, heavy ball, Nesterov",
             "lecture 'optimization': momentum and Nesterov's accelerated gradient",
             ("Plain: w -= lr g. Momentum: b = mu b + g (b = g at the first step), w -= lr b. Nesterov: the "
              "same b, w -= lr (g + mu b).",
              "Keep b in state['buffer'] (velocity(grad, state) returns it); change param in place (param -= ...).",
              "if self.mu == 0: param -= lr * grad; elif self.nesterov: b = self.velocity(grad, state); param -= "
              "lr * (grad + self.mu * b); else: param -= lr * self.velocity(grad, state).")),
    Exercise("8.2", "Adagrad.update", ((ADAPTIVE, "Adagrad.update"),),
             "per-coordinate steps shrinking with the gradients seen so far",
             "lecture 'optimization': AdaGrad",
             ("G += g^2; w -= lr g / (sqrt(G) + eps).",
              "self.buffer(state, 'sum', param) gives the running sum G (zeros the first time).",
              "total = self.buffer(state, 'sum', param); total += grad * grad; param -= lr * grad / "
              "(np.sqrt(total) + self.eps).")),
    Exercise("8.3", "RMSprop.update", ((ADAPTIVE, "RMSprop.update"),),
             "a moving average of g^2 instead of AdaGrad's sum",
             "lecture 'optimization': RMSprop",
             ("v = alpha v + (1 - alpha) g^2; w -= lr g / (sqrt(v) + eps).",
              "self.alpha is the decay; self.buffer(state, 'square_avg', param) holds v.",
              "v *= self.alpha; v += (1 - self.alpha) * grad * grad; param -= lr * grad / (np.sqrt(v) + self.eps).")),
    Exercise("8.4", "Adam.update", ((ADAPTIVE, "Adam.update"),),
             "momentum and RMSprop together, with the bias corrections, and where eps goes",
             "lecture 'optimization': Adam",
             ("m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= lr m_hat / (sqrt(v_hat) + eps) with "
              "m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t) (eps_form 'torch'); 'tensorflow' adds eps to "
              "sqrt(v) and moves the corrections into the step size (the class docstring).",
              "t counts this parameter's steps: state['step'] = state.get('step', 0) + 1; m and v are "
              "self.buffer(state, 'exp_avg', param) and self.buffer(state, 'exp_avg_sq', param).",
              "torch's order: denominator = np.sqrt(v) / np.sqrt(1 - b2**t) + self.eps; param -= (lr / (1 - "
              "b1**t)) * m / denominator.")),
    Exercise("8.5", "Adadelta.update", ((ADAPTIVE, "Adadelta.update"),),
             "a step with units: the ratio of two moving averages",
             "lecture 'optimization': AdaDelta",
             ("v = rho v + (1 - rho) g^2; dx = sqrt(u + eps) / sqrt(v + eps) g; u = rho u + (1 - rho) dx^2; "
              "w -= lr dx.",
              "Two buffers: 'square_avg' (v) and 'acc_delta' (u); u is updated after dx is computed.",
              "As the class docstring, line by line, with np.sqrt.")),
    Exercise("9.1", "BatchNorm.backward", (("layers/normalization.py", "BatchNorm.backward"),),
             "the backward pass through a batch statistic: every example's delta depends on all the others",
             "lecture 'training deep models': batch normalisation",
             ("gamma's delta: sum of d xhat; beta's: sum of d; in training mode x's: (gamma inv_std / m) (m d - "
              "sum d - xhat sum(d xhat)), the sums over the batch (and the spatial axes).",
              "self._axes_and_view(self.delta) gives the axes to sum over and the shape to reshape the "
              "per-feature vectors to; m = d.size // d.shape[1]; in eval mode x's delta is d gamma inv_std.",
              "sum_d = d.sum(axis=axes).reshape(view); sum_dx = (d * self.xhat).sum(axis=axes).reshape(view); "
              "x.delta += (scale / m) * (m * d - sum_d - self.xhat * sum_dx) with scale = gamma * inv_std.")),
    Exercise("10.1", "capstone: parity with your own layers", (),
             "everything at once: your graph, layers, loss and optimizer train the paper's parity network, and "
             "fail where the paper says gradient descent fails",
             "the paper's Section 2 (Figure 1)",
             ("Nothing new to write: this one passes once your Graph, Affine, ReLU, HingeLoss and Adam do.",
              "It trains Affine(d -> 10 d) + ReLU, Affine(10 d -> 1), hinge loss, Adam, on parities of d = 10 "
              "(must learn) and d = 30 (must stay at chance).",
              "If it fails, check the exercises it uses: 1.x, 2.x, 3.1, 4.1, 5.1, 8.4.")),
    Exercise("10.2", "capstone: a LeNet with your own layers", (),
             "a convolutional network built only from your im2col, col2im, max-pool, Affine, ReLU, softmax "
             "loss and Adam learns to tell up- from down-sloping lines (the images of the paper's Section 3)",
             "lecture 'convolutional networks': LeNet",
             ("Nothing new to write: this one passes once the exercises it uses are done.",
              "It trains nn.lenet (conv as Im2Col -> Affine -> images, max-pool, Affine 500, ReLU, Affine 2) with "
              "softmax cross-entropy and Adam on 200 batches of 32 line images, and needs >= 0.8 accuracy.",
              "If it fails, check 2.x, 3.1, 4.1, 5.3, 6.x, 7.1 and 8.4.")),
)

TRACKS: dict[str, tuple[str, ...]] = {
    "all": tuple(e.id for e in EXERCISES),
    "graph": ("1.1", "1.2", "1.3", "2.1", "2.2"),
    "layers": ("1.1", "1.2", "1.3", "3.1", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3", "9.1"),
    "conv": ("6.1", "6.2", "6.3", "7.1", "7.2"),
    "optimizers": ("8.1", "8.2", "8.3", "8.4", "8.5"),
}


def get(exercise_id: str) -> Exercise:
    """The exercise with this id (``ValueError`` naming the ids there are)."""
    for exercise in EXERCISES:
        if exercise.id == exercise_id:
            return exercise
    raise ValueError(f"no exercise {exercise_id!r}; the exercises are {', '.join(e.id for e in EXERCISES)}")
