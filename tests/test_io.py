import numpy as np
import pytest

import tinygrad_cg as cg
from tinygrad_cg import layers as L


def make_net(seed, hidden=4):
    x = L.Input("x", shape=(None, 3))
    h = L.ReLU(cg.nn.affine(x, hidden, rng=seed, name="fc1"))
    return cg.Graph(L.Sum(cg.nn.affine(h, 1, rng=seed + 1, name="fc2")))


def test_save_then_load_restores_parameters(tmp_path):
    source, target = make_net(0), make_net(10)
    path = cg.io.save(tmp_path / "params.npz", source)
    cg.io.load(path, target)
    for a, b in zip(source.variables, target.variables, strict=True):
        assert a.name == b.name and np.array_equal(a.output, b.output) and b.output.dtype == np.float32
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["fc1.W", "fc1.b", "fc2.W", "fc2.b"]


def test_load_refuses_mismatched_shapes_and_leaves_graph_untouched(tmp_path):
    path = cg.io.save(tmp_path / "p.npz", make_net(0, hidden=5))
    target = make_net(1, hidden=4)
    before = [v.output.copy() for v in target.variables]
    with pytest.raises(cg.ShapeError, match=r"'fc1.W' has shape \(3, 4\) in the graph but \(3, 5\)"):
        cg.io.load(path, target)
    assert all(np.array_equal(b, v.output) for b, v in zip(before, target.variables, strict=True))


def test_load_refuses_mismatched_names(tmp_path):
    path = cg.io.save(tmp_path / "p.npz", make_net(0))
    v = L.Variable(np.zeros(3), name="other")
    with pytest.raises(cg.GraphError, match="missing \\['other'\\]"):
        cg.io.load(path, cg.Graph(L.Sum(v)))


def test_save_is_atomic_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = cg.io.save(tmp_path / "p.npz", make_net(0))
    original = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        cg.io.save(path, make_net(5))
    assert path.read_bytes() == original
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_save_refuses_duplicate_variable_names(tmp_path):
    a, b = L.Variable(1.0, name="w"), L.Variable(2.0, name="w")
    with pytest.raises(cg.GraphError, match="both named 'w'"):
        cg.io.save(tmp_path / "p.npz", cg.Graph(L.Add(a, b)))
