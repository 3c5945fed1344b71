"""The checks, one per exercise of the catalogue (``@check("1.3")``), in the catalogue's order.

Each drives the learner's code and the library's on the same inputs (``grader.check_layer``,
``grader.check_optimizer``, ``compare_kernel``) and raises ``grader.Failing`` with what is wrong. The inputs
include the awkward cases: a batch of one, a 0-d scalar, ties, overlapping windows, large logits, a square
matrix where a transpose keeps the shapes.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

from .grader import Case, Failing, away_from, check, check_layer, close, explain, signs

R = np.random.default_rng(20261204)


def pair_cases(rng) -> list[Case]:
    return [Case("two arrays of shape (3, 4)", [rng.normal(size=(3, 4)), rng.normal(size=(3, 4))], [True, True]),
            Case("a 0-d scalar times an array (the lecture's w x)", [rng.normal(size=()), rng.normal(size=(5,))],
                 [True, True]),
            Case("a batch of one", [rng.normal(size=(1, 3)), rng.normal(size=(1, 3))], [True, True])]


@check("1.1")
def _(learner, reference):
    check_layer(learner, reference, lambda L, a, b: L.Multiply(a, b), pair_cases(R))


@check("1.2")
def _(learner, reference):
    check_layer(learner, reference, lambda L, a, b: L.Subtract(a, b), pair_cases(R))


@check("1.3")
def _(learner, reference):
    check_layer(learner, reference, lambda L, x: L.Square(x),
                [Case("an array (4, 3)", [R.normal(size=(4, 3))], [True]),
                 Case("a 0-d scalar", [np.array(-2.0)], [True])])


@check("3.1")
def _(learner, reference):
    def case(name, n, n_in, n_out):
        return Case(name, [R.normal(size=(n, n_in)), R.normal(size=(n_in, n_out)), R.normal(size=n_out)],
                    [True, True, True])
    mistakes = {0: [("delta_X is D W^T: you multiplied by W, not by its transpose", lambda x, W, b, D: D @ W)],
                1: [("delta_W is X^T D, of W's shape (n_in, n_out): yours is its transpose, D^T X",
                     lambda x, W, b, D: D.T @ x)]}
    check_layer(learner, reference, lambda L, x, W, b: L.Affine(x, W, b),
                [case("a square W (4, 4), where a transpose keeps the shapes", 6, 4, 4),
                 case("X (5, 3), W (3, 2)", 5, 3, 2), case("a batch of one", 1, 4, 3),
                 case("one output unit (the outer product)", 7, 3, 1)], mistakes=mistakes)


@check("4.1")
def _(learner, reference):
    check_layer(learner, reference, lambda L, x: L.ReLU(x),
                [Case("values on both sides of 0", [away_from(R, (6, 5))], [True]),
                 Case("a batch of one", [away_from(R, (1, 4))], [True])])


@check("4.2")
def _(learner, reference):
    check_layer(learner, reference, lambda L, x: L.Sigmoid(x),
                [Case("moderate inputs", [R.normal(size=(5, 4)) * 3], [True]),
                 Case("large inputs (+-40)", [np.array([[-40.0, -5.0, 0.0, 5.0, 40.0]])], [True])])


@check("4.3")
def _(learner, reference):
    check_layer(learner, reference, lambda L, x: L.Tanh(x), [Case("an array", [R.normal(size=(5, 4))], [True])])


def margin_scores(rng: np.random.Generator, n: int) -> np.ndarray:
    """Scores whose margins y s stay away from the hinge's kink at 1."""
    magnitude = np.where(rng.random((n, 1)) < 0.5, rng.uniform(0.2, 0.8, (n, 1)), rng.uniform(1.2, 2.0, (n, 1)))
    return rng.choice([-1.0, 1.0], size=(n, 1)) * magnitude


@check("5.1")
def _(learner, reference):
    check_layer(learner, reference, lambda L, s, y: L.HingeLoss(s, y),
                [Case("8 examples", [margin_scores(R, 8), signs(R, 8)], [True, False], batch=8),
                 Case("a batch of one", [margin_scores(R, 1), signs(R, 1)], [True, False], batch=1),
                 Case("scores and labels both trained", [margin_scores(R, 6), signs(R, 6)], [True, True], batch=6)])


@check("5.2")
def _(learner, reference):
    check_layer(learner, reference, lambda L, s, y: L.LogisticLoss(s, y),
                [Case("8 examples", [R.normal(size=(8, 1)) * 2, signs(R, 8)], [True, False], batch=8),
                 Case("large scores (+-800)", [np.array([[800.0], [-800.0], [3.0]]), np.array([[1.0], [1.0], [-1.0]])],
                      [True, False], batch=3)], numeric=False)
    check_layer(learner, reference, lambda L, s, y: L.LogisticLoss(s, y),
                [Case("finite differences", [R.normal(size=(6, 1)), signs(R, 6)], [True, False], batch=6)])


@check("5.3")
def _(learner, reference):
    def labels(n, k):
        return R.integers(0, k, size=n).astype(float)
    check_layer(learner, reference, lambda L, z, t: L.SoftmaxCrossEntropy(z, t),
                [Case("6 examples, 4 classes", [R.normal(size=(6, 4)), labels(6, 4)], [True, False], batch=6),
                 Case("a batch of one", [R.normal(size=(1, 3)), labels(1, 3)], [True, False], batch=1),
                 Case("large logits (1000)", [np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 3.0]]),
                                               np.array([0.0, 2.0])], [True, False], batch=2)], numeric=False)


@check("9.1")
def _(learner, reference):
    def case(name, shape):
        c = shape[1]
        return Case(name, [R.normal(size=shape), R.normal(size=c), R.normal(size=c)], [True, True, True])

    def training(L, x, gamma, beta):
        return L.BatchNorm(x, gamma, beta)

    def evaluation(L, x, gamma, beta):  # after one training pass, with its running statistics
        layer = L.BatchNorm(x, gamma, beta)
        layer.forward()
        layer.training = False
        return layer

    check_layer(learner, reference, training, [case("features (8, 3)", (8, 3)), case("images (4, 2, 3, 3)",
                                                                                      (4, 2, 3, 3))])
    # evaluation mode normalises with fixed statistics: x's delta is d gamma / sqrt(var + eps), nothing more (no
    # finite differences here: perturbing x would also move the statistics of the training pass before it)
    check_layer(learner, reference, evaluation, [case("evaluation mode (graph.eval()), features (8, 3)", (8, 3))],
                numeric=False)


# --- kernels ----------------------------------------------------------------------------------------------

def compare_kernel(name: str, got, expected, before=None) -> None:
    problem = explain(name, got, expected, before, None)
    if problem:
        raise Failing(problem)


CONV_CASES = [("3x3 windows, stride 1, padding 1", (2, 3, 5, 5), 3, 1, 1),
              ("2x2 windows, stride 2, no padding", (1, 2, 4, 6), 2, 2, 0),
              ("3x2 windows, stride 2, padding (1, 0)", (2, 1, 5, 4), (3, 2), 2, (1, 0))]


def _kernel_size(k):
    return (k, k) if isinstance(k, int) else k


@check("6.1")
def _(learner, reference):
    for name, shape, k, stride, padding in CONV_CASES:
        x = R.normal(size=shape)
        kh, kw = _kernel_size(k)
        got = learner.kernels.reference.im2col(x, kh, kw, stride, padding)
        compare_kernel(f"{name}: im2col", got, reference.kernels.reference.im2col(x, kh, kw, stride, padding))


@check("6.2")
def _(learner, reference):
    for name, shape, k, stride, padding in CONV_CASES:
        kh, kw = _kernel_size(k)
        rows = reference.kernels.reference.im2col(np.zeros(shape), kh, kw, stride, padding).shape
        cols = R.normal(size=rows)
        got = learner.kernels.reference.col2im(cols, shape, kh, kw, stride, padding)
        compare_kernel(f"{name}: col2im", got, reference.kernels.reference.col2im(cols, shape, kh, kw, stride,
                                                                                  padding))


@check("6.3")
def _(learner, reference):
    for name, shape, k, stride, padding in CONV_CASES:
        kh, kw = _kernel_size(k)
        x, K, b = R.normal(size=shape), R.normal(size=(4, shape[1], kh, kw)), R.normal(size=4)
        outputs = []
        for lib in (learner, reference):
            L = lib.layers
            conv = lib.nn.im2col_conv(L.Constant(x), L.Constant(K), L.Constant(b), kh, kw, stride, padding)
            graph = lib.Graph(conv, dtype=np.float64)
            outputs.append(graph.forward({}))
        got, expected = outputs
        compare_kernel(f"{name}: the convolution's output (N, c_out, OH, OW)", got, expected)


def pool_cases() -> list[tuple[str, np.ndarray, int, int]]:
    tied = np.zeros((1, 1, 4, 4))
    tied[0, 0, :2, :2] = 1.0  # a whole window tied at its maximum
    return [("2x2 windows, stride 2", R.normal(size=(2, 3, 4, 4)), 2, 2),
            ("overlapping 3x3 windows, stride 1 (an entry can win two windows)", R.normal(size=(1, 2, 5, 5)), 3, 1),
            ("ties: a window whose entries are all equal (the first one wins)", tied, 2, 2)]


@check("7.1")
def _(learner, reference):
    ref = reference.kernels.reference
    for name, x, k, stride in pool_cases():
        out, argmax = ref.maxpool_forward(x, k, stride)
        delta = R.normal(size=out.shape)
        got = learner.kernels.reference.maxpool_backward(delta, argmax, x.shape, k, stride)
        expected = ref.maxpool_backward(delta, argmax, x.shape, k, stride)
        if got is not None and np.shape(got) == expected.shape and "ties" in name:
            window = np.asarray(got)[0, 0, :2, :2]
            if np.sum(window != 0) > 1:
                raise Failing(f"{name}: the delta went to {int(np.sum(window != 0))} entries of the tied window; "
                              "it must go to one only, the first maximum (the argmax given)")
        compare_kernel(f"{name}: maxpool_backward", got, expected)
        fill = R.normal(size=x.shape)
        added = learner.kernels.reference.maxpool_backward(delta, argmax, x.shape, k, stride, add_to=fill.copy())
        compare_kernel(f"{name}: maxpool_backward with add_to (must add into it and return it)", added,
                       ref.maxpool_backward(delta, argmax, x.shape, k, stride, add_to=fill.copy()), fill)


@check("7.2")
def _(learner, reference):
    ref = reference.kernels.reference
    for name, x, k, stride in pool_cases()[:2]:
        delta = R.normal(size=ref.avgpool_forward(x, k, stride).shape)
        compare_kernel(f"{name}: avgpool_backward", learner.kernels.reference.avgpool_backward(delta, x.shape, k,
                                                                                                stride),
                       ref.avgpool_backward(delta, x.shape, k, stride))


# --- optimizers ---------------------------------------------------------------------------------------------

GRADIENTS = [np.array([np.sin(1.3 * t), 2 * np.cos(0.7 * t), 0.01 * (t - 5)]) for t in range(15)]


def check_optimizer(learner, reference, name: str, configs: list[dict]) -> None:
    for config in configs:
        ours = learner.layers.Variable(np.array([0.7, -0.3, 0.2]), name="w")
        theirs = reference.layers.Variable(np.array([0.7, -0.3, 0.2]), name="w")
        opt_l = getattr(learner.optim, name)([ours], **config)
        opt_r = getattr(reference.optim, name)([theirs], **config)
        for step, g in enumerate(GRADIENTS, 1):
            ours.delta, theirs.delta = g.copy(), g.copy()
            opt_l.step()
            opt_r.step()
            if not close(np.asarray(ours.output, dtype=float), theirs.output):
                settings = ", ".join(f"{k}={v}" for k, v in config.items())
                advice = ("the very first step is already off: check the formula (and, for Adam, the bias "
                          "corrections at t = 1)" if step == 1 else
                          "the first steps were right: check what carries over between steps (the state "
                          "buffers, the step count)")
                raise Failing(f"{name}({settings}): after step {step} w = {np.round(ours.output, 6)}, expected "
                              f"{np.round(theirs.output, 6)}; {advice}")


@check("8.1")
def _(learner, reference):
    check_optimizer(learner, reference, "SGD", [dict(lr=0.1), dict(lr=0.1, momentum=0.9),
                                                dict(lr=0.1, momentum=0.9, nesterov=True)])


@check("8.2")
def _(learner, reference):
    check_optimizer(learner, reference, "Adagrad", [dict(lr=0.1)])


@check("8.3")
def _(learner, reference):
    check_optimizer(learner, reference, "RMSprop", [dict(lr=0.01), dict(lr=0.01, alpha=0.9)])


@check("8.4")
def _(learner, reference):
    check_optimizer(learner, reference, "Adam", [dict(lr=0.01), dict(lr=0.01, betas=(0.9, 0.99), eps=0.05),
                                                 dict(lr=0.01, betas=(0.9, 0.99), eps=0.05, eps_form="tensorflow")])


@check("8.5")
def _(learner, reference):
    check_optimizer(learner, reference, "Adadelta", [dict(lr=1.0), dict(lr=0.5, rho=0.8)])


# --- the graph's loops, on layers defined here (so that they do not wait for the layer exercises) ----------

def loop_layers(lib: ModuleType) -> tuple[type, type]:
    """Two small layers on the learner's Layer base: o = c x and o = a b (scalars), with their backward."""
    Layer = lib.graph.Layer

    class Scale(Layer):
        def __init__(self, x, c, name=None):
            self.c = c
            super().__init__(x, name=name)

        def infer_shape(self, x):
            return x

        def forward(self):
            self.output = self.c * self.inputs[0].output

        def backward(self):
            x = self.inputs[0]
            if x.needs_delta:
                x.delta += self.c * self.delta

    class Times(Layer):
        def infer_shape(self, a, b):
            return a

        def forward(self):
            self.output = self.inputs[0].output * self.inputs[1].output

        def backward(self):
            a, b = self.inputs
            if a.needs_delta:
                a.delta += self.delta * b.output
            if b.needs_delta:
                b.delta += self.delta * a.output

    return Scale, Times


def small_graph(lib: ModuleType) -> tuple:
    """x, w, v; p = w x; q = 3 p; r = p v; s = q r (w read once, p read twice): returns (s, every layer)."""
    Scale, Times = loop_layers(lib)
    L = lib.layers
    x = L.Input("x")
    w = L.Variable(0.5, name="w")
    v = L.Variable(-2.0, name="v")
    p = Times(w, x, name="p")
    q = Scale(p, 3.0, name="q")
    r = Times(p, v, name="r")
    s = Times(q, r, name="s")
    return s, [x, w, v, p, q, r, s]


@check("2.1")
def _(learner, reference):
    out, layers = small_graph(learner)
    names = [layer.name for layer in learner.graph.topological_sort([out])]
    expected = [layer.name for layer in reference.graph.topological_sort([small_graph(reference)[0]])]
    if sorted(names) != sorted(expected):
        raise Failing(f"the order holds {names}, expected each of {sorted(expected)} exactly once")
    for layer in layers:
        for inp in layer.inputs:
            if names.index(inp.name) > names.index(layer.name):
                raise Failing(f"{layer.name} is placed before its input {inp.name}: {names}")
    if names != expected:
        raise Failing(f"a valid order, but ties must follow creation order: got {names}, expected {expected}")
    Scale, _ = loop_layers(learner)
    a = learner.layers.Input("a")
    loop = Scale(a, 2.0, name="loop")
    loop.inputs = (loop,)  # a cycle
    try:
        learner.graph.topological_sort([loop])
    except learner.errors.GraphError:
        pass
    else:
        raise Failing("a graph with a cycle must raise GraphError (no order exists)")


@check("2.2")
def _(learner, reference):
    results = {}
    for lib in (learner, reference):
        out, layers = small_graph(lib)
        graph = lib.Graph(out, dtype=np.float64)
        graph.forward({"x": 1.5})
        graph.backward()
        results[lib is learner] = {layer.name: None if layer.delta is None else float(layer.delta) for layer in layers}
        graph.backward()  # a second pass must give the same deltas (they start from 0 again)
        again = {layer.name: None if layer.delta is None else float(layer.delta) for layer in layers}
        if lib is learner and again != results[True]:
            raise Failing(f"a second backward() gives other deltas ({again} after {results[True]}): every delta "
                          "must start from 0 each pass")
    ours, theirs = results[True], results[False]
    for name, expected in theirs.items():
        if expected is not None and (ours[name] is None or not np.isclose(ours[name], expected)):
            raise Failing(f"delta of {name!r} is {ours[name]}, expected {expected} (p is read by two layers: its "
                          "delta is the sum of both)")


# --- the capstone --------------------------------------------------------------------------------------------

def train_parity(lib: ModuleType, d: int, steps: int, seed: int = 0) -> float:
    """Affine(d -> 10 d) + ReLU, Affine(10 d -> 1), hinge loss, Adam (lr 1e-3); accuracy on 2,000 fresh samples."""
    L, rng = lib.layers, np.random.default_rng(seed)
    data = importlib.import_module(f"{lib.__name__}.data")
    subset = rng.random(d) < 0.5
    x, y = L.Input("x", shape=(None, d)), L.Input("y", shape=(None, 1))
    score = lib.nn.mlp(x, [10 * d, 1], rng=rng)
    graph = lib.Graph(L.HingeLoss(score, y), input_grads=False)
    predict = lib.Graph(score, input_grads=False)
    opt = lib.optim.Adam(graph.variables, lr=1e-3)
    for _ in range(steps):
        X, Y, _ = data.parity(d, subset, 128, rng)
        graph.forward({"x": X, "y": Y})
        graph.backward()
        opt.step()
    X, Y, _ = data.parity(d, subset, 2_000, rng)
    return float(np.mean(np.sign(predict.forward({"x": X})) == Y))


@check("10.1")
def _(learner, reference):
    learned = train_parity(learner, 10, 2_500)
    if learned < 0.95:
        raise Failing(f"with your layers the d = 10 parity reached {learned:.3f} accuracy after 2,500 Adam steps "
                      "(the library: >= 0.95); check the exercises it uses (1.x, 2.x, 3.1, 4.1, 5.1, 8.4)")
    chance = train_parity(learner, 30, 2_500)
    if abs(chance - 0.5) > 0.05:
        raise Failing(f"d = 30 ended at {chance:.3f}: the paper's failure is that it stays at chance (0.5 +- 0.05)")




def train_lenet(lib: ModuleType, steps: int, seed: int = 0, batch: int = 32) -> float:
    """nn.lenet (the composed conv: Im2Col -> Affine -> images) on up- vs down-sloping line images, softmax
    cross-entropy, Adam (lr 1e-3); accuracy on 1,000 fresh images."""
    L, rng = lib.layers, np.random.default_rng(seed)
    data = importlib.import_module(f"{lib.__name__}.data")
    x, y = L.Input("x", shape=(None, 1, 28, 28)), L.Input("y", shape=(None,))
    logits = lib.nn.lenet(x, 2, rng=rng)
    graph = lib.Graph(L.SoftmaxCrossEntropy(logits, y), input_grads=False)
    predict = lib.Graph(logits, input_grads=False)
    opt = lib.optim.Adam(graph.variables, lr=1e-3)
    for _ in range(steps):
        images, labels = data.line_images(batch, rng)
        graph.forward({"x": images, "y": (labels > 0).astype(float)})
        graph.backward()
        opt.step()
    images, labels = data.line_images(1_000, rng)
    return float(np.mean(np.argmax(predict.forward({"x": images}), axis=1) == (labels > 0)))


@check("10.2")
def _(learner, reference):
    accuracy = train_lenet(learner, 200)
    if accuracy < 0.8:
        raise Failing(f"your LeNet reached {accuracy:.3f} accuracy on up- vs down-sloping lines after 200 steps (the "
                      "library: ~0.9); check the exercises it uses (2.x, 3.1, 4.1, 5.3, 6.x, 7.1, 8.4)")
