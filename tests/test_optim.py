"""Optimizers: trajectories against hand-written references and torch.optim; state round trips."""

import copy

import numpy as np
import pytest

from tinygrad_cg import GraphError, ShapeError, optim
from tinygrad_cg import layers as L
from tinygrad_cg.optim import schedules

A = np.array([[3.0, 0.5], [0.5, 1.0]])
B = np.array([1.0, -2.0])
W0 = np.array([0.7, -0.3])
GRADIENT_SEQUENCE = [np.array([np.sin(1.3 * t), np.cos(0.7 * t) * 2]) for t in range(20)]


def quadratic_gradient(w):
    """f(w) = 1/2 w'Aw - b'w."""
    return A @ w - B


# --- independent references, written from the papers' formulas --------------------------


def ref_sgd(grads, lr=0.1, **_):
    def run(w, g, s):
        return w - lr * g
    return run


def ref_momentum(lr=0.1, mu=0.9, nesterov=False):
    def run(w, g, s):
        s["b"] = g if "b" not in s else mu * s["b"] + g
        return w - lr * (g + mu * s["b"] if nesterov else s["b"])
    return run


def ref_adagrad(lr=0.1, eps=1e-10):
    def run(w, g, s):
        s["G"] = s.get("G", 0) + g**2
        return w - lr * g / (np.sqrt(s["G"]) + eps)
    return run


def ref_rmsprop(lr=0.01, rho=0.99, eps=1e-8):
    def run(w, g, s):
        s["v"] = rho * s.get("v", 0) + (1 - rho) * g**2
        return w - lr * g / (np.sqrt(s["v"]) + eps)
    return run


def ref_adam(lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    def run(w, g, s):
        s["t"] = s.get("t", 0) + 1
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g**2
        m_hat, v_hat = s["m"] / (1 - b1 ** s["t"]), s["v"] / (1 - b2 ** s["t"])
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return run


def ref_adadelta(lr=1.0, rho=0.9, eps=1e-6):
    def run(w, g, s):
        s["v"] = rho * s.get("v", 0) + (1 - rho) * g**2
        dx = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["v"] + eps) * g
        s["u"] = rho * s.get("u", 0) + (1 - rho) * dx**2
        return w - lr * dx
    return run


CASES = {
    "SGD": (lambda p: optim.SGD(p, lr=0.1), ref_sgd(None, lr=0.1)),
    "Momentum": (lambda p: optim.Momentum(p, lr=0.1, mu=0.9), ref_momentum(0.1, 0.9)),
    "Nesterov": (lambda p: optim.Nesterov(p, lr=0.1, mu=0.9), ref_momentum(0.1, 0.9, nesterov=True)),
    "Adagrad": (lambda p: optim.Adagrad(p, lr=0.1), ref_adagrad(0.1)),
    "RMSprop": (lambda p: optim.RMSprop(p, lr=0.01), ref_rmsprop(0.01)),
    "Adam": (lambda p: optim.Adam(p, lr=0.01), ref_adam(0.01)),
    "Adadelta": (lambda p: optim.Adadelta(p, lr=1.0), ref_adadelta(1.0)),
}


def trajectory(make_optimizer, gradient_of, steps=20):
    w = L.Variable(W0.copy(), name="w")
    opt = make_optimizer([w])
    path = []
    for t in range(steps):
        w.delta = gradient_of(w.output, t)
        opt.step()
        path.append(w.output.copy())
    return np.array(path)


def reference_trajectory(rule, gradient_of, steps=20):
    w, state, path = W0.copy(), {}, []
    for t in range(steps):
        w = rule(w, gradient_of(w, t), state)
        path.append(w)
    return np.array(path)


GRADIENTS = {
    "quadratic": lambda w, t: quadratic_gradient(w),
    "fixed sequence": lambda w, t: GRADIENT_SEQUENCE[t].copy(),
}


@pytest.mark.parametrize("problem", GRADIENTS)
@pytest.mark.parametrize("name", CASES)
def test_trajectory_matches_hand_written_reference(name, problem):
    make, rule = CASES[name]
    ours = trajectory(make, GRADIENTS[problem])
    expected = reference_trajectory(rule, GRADIENTS[problem])
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)
    assert not np.allclose(ours[-1], W0)  # it moved


TORCH_CASES = {
    "SGD": ("SGD", dict(lr=0.1)),
    "Momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "Nesterov": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "Adagrad": ("Adagrad", dict(lr=0.1)),
    "RMSprop": ("RMSprop", dict(lr=0.01)),
    "Adam": ("Adam", dict(lr=0.01)),
    "Adadelta": ("Adadelta", dict(lr=1.0)),
}


@pytest.mark.parametrize("problem", GRADIENTS)
@pytest.mark.parametrize("name", CASES)
def test_trajectory_matches_torch(name, problem):
    torch = pytest.importorskip("torch")
    torch_name, kwargs = TORCH_CASES[name]
    p = torch.tensor(W0.copy(), dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, torch_name)([p], **kwargs)
    path = []
    for t in range(20):
        p.grad = torch.tensor(GRADIENTS[problem](p.detach().numpy(), t))
        opt.step()
        path.append(p.detach().numpy().copy())
    ours = trajectory(CASES[name][0], GRADIENTS[problem])
    np.testing.assert_allclose(ours, np.array(path), rtol=1e-12, atol=1e-14)


def test_weight_decay_adds_l2_gradient_like_torch():
    torch = pytest.importorskip("torch")
    p = torch.tensor(W0.copy(), requires_grad=True, dtype=torch.float64)
    opt_t = torch.optim.Adam([p], lr=0.01, weight_decay=0.1)
    w = L.Variable(W0.copy())
    opt = optim.Adam([w], lr=0.01, weight_decay=0.1)
    for _ in range(10):
        p.grad = torch.tensor(quadratic_gradient(p.detach().numpy()))
        opt_t.step()
        w.delta = quadratic_gradient(w.output)
        opt.step()
    np.testing.assert_allclose(w.output, p.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_state_save_and_restore_gives_identical_continuation(name):
    make, _ = CASES[name]
    w = L.Variable(W0.copy())
    opt = make([w])
    for _ in range(7):
        w.delta = quadratic_gradient(w.output)
        opt.step()
    saved_state, saved_w = opt.state_dict(), w.output.copy()

    def continue_run(optimizer, variable):
        for _ in range(8):
            variable.delta = quadratic_gradient(variable.output)
            optimizer.step()
        return variable.output.copy()

    first = continue_run(opt, w)
    w2 = L.Variable(saved_w)
    opt2 = make([w2])
    opt2.load_state_dict(copy.deepcopy(saved_state))
    np.testing.assert_array_equal(continue_run(opt2, w2), first)


def test_load_state_dict_refuses_mismatched_shapes():
    w = L.Variable(np.zeros(2))
    opt = optim.Adam([w])
    w.delta = np.ones(2)
    opt.step()
    other = optim.Adam([L.Variable(np.zeros(3))])
    with pytest.raises(GraphError, match="exp_avg"):
        other.load_state_dict(opt.state_dict())


def test_parameters_without_delta_are_skipped_and_bad_params_rejected():
    used, unused = L.Variable(np.ones(2)), L.Variable(np.ones(2))
    opt = optim.SGD([used, unused], lr=0.5)
    used.delta = np.ones(2)
    opt.step()
    assert np.all(used.output == 0.5) and np.all(unused.output == 1)
    with pytest.raises(GraphError, match="trains Variable layers"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([used], lr=-1)



# --- Adam's two eps forms ---------------------------------------------------------------------


def ref_tensorflow_adam(lr=0.01, beta1=0.9, beta2=0.99, epsilon=0.05):
    """A direct transcription of TensorFlow 1's ApplyAdam kernel (core/kernels/training_ops.cc), with the
    beta powers that ``tf.train.AdamOptimizer`` keeps as variables (starting at beta, multiplied once a step):

        alpha = lr * sqrt(1 - beta2_power) / (1 - beta1_power)
        m += (grad - m) * (1 - beta1)
        v += (grad^2 - v) * (1 - beta2)
        var -= m * alpha / (sqrt(v) + epsilon)
    """
    def run(w, g, s):
        beta1_power, beta2_power = s.get("beta1_power", beta1), s.get("beta2_power", beta2)
        alpha = lr * np.sqrt(1 - beta2_power) / (1 - beta1_power)
        s["m"] = s.get("m", 0) + (g - s.get("m", 0)) * (1 - beta1)
        s["v"] = s.get("v", 0) + (g**2 - s.get("v", 0)) * (1 - beta2)
        s["beta1_power"], s["beta2_power"] = beta1_power * beta1, beta2_power * beta2
        return w - s["m"] * alpha / (np.sqrt(s["v"]) + epsilon)
    return run


def tensorflow_form(p, eps=0.05):
    return optim.Adam(p, lr=0.01, betas=(0.9, 0.99), eps=eps, eps_form="tensorflow")


@pytest.mark.parametrize("problem", GRADIENTS)
def test_adam_tensorflow_form_matches_tensorflow_1s_update(problem):
    # eps 0.05 is not small next to these gradients (~1), so where eps goes changes the path
    ours = trajectory(tensorflow_form, GRADIENTS[problem])
    expected = reference_trajectory(ref_tensorflow_adam(), GRADIENTS[problem])
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)
    torch_form = trajectory(lambda p: optim.Adam(p, lr=0.01, betas=(0.9, 0.99), eps=0.05), GRADIENTS[problem])
    assert np.abs(torch_form - ours).max() > 1e-4  # the forms differ here, so the test can tell them apart


def test_adam_forms_agree_where_the_bias_correction_has_died_out():
    # torch's eps is TensorFlow's eps / sqrt(1 - b2^t): the steps differ at t = 1 and agree once 1 - b2^t ~ 1
    def steps(eps_form):
        w = L.Variable(W0.copy())
        opt = optim.Adam([w], lr=0.01, betas=(0.9, 0.99), eps=1e-2, eps_form=eps_form)
        taken = []
        for t in range(2_000):
            w.delta, before = GRADIENT_SEQUENCE[t % 20] * 1e-2, w.output.copy()  # gradients ~ eps
            opt.step()
            taken.append(w.output - before)
        return np.array(taken)

    torch_steps, tensorflow_steps = steps("torch"), steps("tensorflow")
    assert abs(tensorflow_steps[0, 1] / torch_steps[0, 1]) < 0.5  # eps weighs 10x more at t = 1
    np.testing.assert_allclose(tensorflow_steps[-1], torch_steps[-1], rtol=1e-6)


def test_adam_rejects_an_unknown_eps_form():
    with pytest.raises(ValueError, match="eps_form must be one of"):
        optim.Adam([L.Variable(np.zeros(2))], eps_form="keras")

# --- schedules -----------------------------------------------------------------------------


def test_schedules_values():
    assert [schedules.StepDecay(every=2)(t) for t in range(5)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])
    assert [schedules.Harmonic(N=10, a=0.001, b=10)(t) for t in (0, 9, 10, 25)] == pytest.approx(
        [1e-4, 1e-4, 0.001 / 11, 0.001 / 12])
    pc = schedules.PiecewiseConstant([3, 5], [1.0, 0.5, 0.1])
    assert [pc(t) for t in range(7)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    assert schedules.Constant()(123) == 1.0
    plateau = schedules.HalveOnPlateau(patience=2)
    for loss in [3.0, 2.0, 2.5, 2.1]:
        plateau.observe(loss)
    assert plateau(0) == 0.5
    plateau.observe(1.0)
    plateau.observe(1.5)
    assert plateau(0) == 0.5


def test_optimizer_uses_schedule_per_step():
    w = L.Variable(np.zeros(1))
    opt = optim.SGD([w], lr=1.0, schedule=schedules.StepDecay(every=1, gamma=0.5))
    for _ in range(3):
        w.delta = np.ones(1)
        opt.step()
    assert w.output[0] == pytest.approx(-(1 + 0.5 + 0.25))
    assert opt.current_lr == pytest.approx(0.125)


def test_plateau_schedule_state_is_saved():
    w = L.Variable(np.zeros(1))
    plateau = schedules.HalveOnPlateau(patience=1)
    opt = optim.SGD([w], lr=1.0, schedule=plateau)
    plateau.observe(1.0)
    plateau.observe(2.0)
    state = opt.state_dict()
    fresh = schedules.HalveOnPlateau(patience=1)
    opt2 = optim.SGD([w], lr=1.0, schedule=fresh)
    opt2.load_state_dict(state)
    assert opt2.current_lr == 0.5


# --- preconditioned SGD -------------------------------------------------------------------


def test_preconditioned_sgd_with_inverse_hessian_solves_a_quadratic_in_one_step():
    w = L.Variable(W0.copy())
    opt = optim.PreconditionedSGD([w], lr=1.0, preconditioner=np.linalg.inv(A))
    w.delta = quadratic_gradient(w.output)
    opt.step()
    np.testing.assert_allclose(w.output, np.linalg.solve(A, B), rtol=1e-12)


def test_preconditioned_sgd_equals_sgd_in_reparametrised_variable():
    C_half = np.linalg.cholesky(A)
    w = L.Variable(W0.copy())
    opt = optim.PreconditionedSGD([w], lr=0.1, preconditioner=lambda g: np.linalg.solve(A, g))
    v = C_half.T @ W0  # v = R w with A = R'R
    for _ in range(5):
        w.delta = quadratic_gradient(w.output)
        opt.step()
        grad_v = np.linalg.solve(C_half, quadratic_gradient(np.linalg.solve(C_half.T, v)))
        v = v - 0.1 * grad_v
    np.testing.assert_allclose(w.output, np.linalg.solve(C_half.T, v), rtol=1e-12)


def test_preconditioner_shape_checked():
    w = L.Variable(np.zeros(3), name="w")
    with pytest.raises(ShapeError, match="'w' has 3 entries"):
        optim.PreconditionedSGD([w], lr=0.1, preconditioner=np.eye(2))
