"""tt.save / tt.load: bit-exact round trips, clear errors on bad files, atomic writes."""

import io
import json
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.core import checkpoint
from tinytorch.core.checkpoint import CheckpointError


def _trained_state(seed=0):
    """Model + Adam + scheduler state after a few real steps, plus plain metadata."""
    rng = np.random.default_rng(seed)
    tt.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    opt = tt.optim.Adam([{"params": model[0].parameters(), "lr": 0.01},
                         {"params": model[2].parameters()}], lr=3e-3, amsgrad=True)
    sched = tt.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    x = tt.tensor(rng.standard_normal((8, 4)).astype(np.float32))
    y = tt.tensor(rng.integers(0, 2, 8))
    for _ in range(3):
        opt.zero_grad()
        tt.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        sched.step()
    return {"model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "epoch": 3, "best": float("nan"),
            "note": "run 7", "tags": ("a", 1, None, True), "f64": np.float64(0.1),
            "i32": np.arange(5, dtype=np.int32), "empty": np.zeros((0, 3), np.float16)}


def _assert_same(a, b, where="obj"):
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, tt.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert a.numpy().tobytes() == b.numpy().tobytes(), f"{where}: values differ"
        assert a.requires_grad == b.requires_grad, where
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), where
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), f"{where}: values differ"
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys()), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _assert_same(u, v, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def test_round_trip_is_bit_exact(tmp_path):
    state = _trained_state()
    path = tmp_path / "ckpt.npz"
    tt.save(state, path)
    back = tt.load(path)
    _assert_same(state, back)
    assert isinstance(back["model"], OrderedDict)
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(back["optimizer"]["state"]) == [0, 1, 2, 3]  # int keys stay ints


def test_round_trip_restores_training_exactly(tmp_path):
    """Resume from disk: model, optimizer and scheduler continue exactly as without the stop."""
    rng = np.random.default_rng(1)
    x = tt.tensor(rng.standard_normal((16, 3)).astype(np.float32))
    y = tt.tensor(rng.standard_normal((16, 1)).astype(np.float32))

    def build():
        tt.manual_seed(3)
        m = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
        o = tt.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        return m, o, tt.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)

    def steps(m, o, s, n):
        for _ in range(n):
            o.zero_grad()
            ((m(x) - y) ** 2).mean().backward()
            o.step()
            s.step()

    m1, o1, s1 = build()
    steps(m1, o1, s1, 6)
    m2, o2, s2 = build()
    steps(m2, o2, s2, 3)
    tt.save({"model": m2.state_dict(), "opt": o2.state_dict(), "sched": s2.state_dict()},
            tmp_path / "mid.ckpt")
    m3, o3, s3 = build()
    state = tt.load(tmp_path / "mid.ckpt")
    m3.load_state_dict(state["model"])
    o3.load_state_dict(state["opt"])
    s3.load_state_dict(state["sched"])
    steps(m3, o3, s3, 3)
    for (name, p), q in zip(m1.named_parameters(), m3.parameters()):
        assert p.numpy().tobytes() == q.numpy().tobytes(), name


def test_other_leaf_types_round_trip():
    obj = {"p": nn.Parameter(np.arange(3.0)), "t": tt.tensor([1, 2]), "b": np.bool_(True),
           "inf": [float("inf"), -0.0], "big": 2 ** 70, 1.5: "float key", None: "none key",
           "s": np.array(["ab", "c"]), "nested": [[{}], ()]}
    buf = io.BytesIO()
    tt.save(obj, buf)
    buf.seek(0)
    back = tt.load(buf)
    _assert_same(obj, back)
    assert isinstance(back["p"], nn.Parameter) and back["p"].requires_grad
    assert str(back["inf"][1]) == "-0.0"


def test_save_refuses_what_is_not_data(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['fn'\] of type function"):
        tt.save({"fn": lambda: 0}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="object"):
        tt.save({"a": np.array([{}, 1], dtype=object)}, tmp_path / "x.npz")
    assert not os.listdir(tmp_path)  # nothing written, no temporary file left


def test_writes_exactly_the_given_path(tmp_path):
    tt.save({"a": 1}, str(tmp_path / "model.ckpt"))
    assert os.listdir(tmp_path) == ["model.ckpt"]
    # and it is a plain npz: readable by NumPy without pickle
    with np.load(tmp_path / "model.ckpt", allow_pickle=False) as z:
        header = json.loads(z["__structure__"].tobytes())
    assert header["format"] == "tinytorch.checkpoint"


# --------------------------------------------------------------------------- bad files


def test_missing_file(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        tt.load(path)


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_truncated_file(tmp_path, keep):
    path = tmp_path / "ckpt.npz"
    tt.save(_trained_state(), path)
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep)])
    with pytest.raises(CheckpointError, match="ckpt.npz is truncated or corrupt"):
        tt.load(path)


def test_corrupted_bytes_are_detected(tmp_path):
    path = tmp_path / "ckpt.npz"
    tt.save({"w": np.zeros(1000, np.float32)}, path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # a flipped byte inside the array data
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        tt.load(path)


EXECUTED = []


def _record_execution(what):
    EXECUTED.append(what)
    return what


class _Evil:
    """Unpickling this calls _record_execution: the file runs code of its choosing."""

    def __reduce__(self):
        return (_record_execution, ("code from the file ran",))


def test_pickle_file_is_refused_and_never_executed(tmp_path):
    path = tmp_path / "torch_style.pt"
    path.write_bytes(pickle.dumps({"w": _Evil()}))
    pickle.loads(path.read_bytes())  # the trap works: plain unpickling runs the code
    assert EXECUTED == ["code from the file ran"]
    EXECUTED.clear()
    with pytest.raises(CheckpointError, match="torch_style.pt .*pickle"):
        tt.load(path)
    assert EXECUTED == []


def test_npy_with_object_array_is_refused(tmp_path):
    path = tmp_path / "objs.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="objs.npy is not a TinyTorch checkpoint"):
        tt.load(path)


def test_npz_member_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    tt.save({"a": np.zeros(2)}, path)
    with zipfile.ZipFile(path, "a") as z:  # smuggle an object array into a real checkpoint
        bio = io.BytesIO()
        np.save(bio, np.array([_Evil()], dtype=object), allow_pickle=True)
        z.writestr("a1.npy", bio.getvalue())
    with pytest.raises(CheckpointError, match="pickled"):
        tt.load(path)
    assert EXECUTED == []


def test_foreign_npz_is_refused(tmp_path):
    path = tmp_path / "weights.npz"
    np.savez(path, w=np.ones(3))
    with pytest.raises(CheckpointError, match="not a TinyTorch checkpoint.*np.load"):
        tt.load(path)


def test_foreign_zip_and_garbage_are_refused(tmp_path):
    z = tmp_path / "notes.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match="notes.zip"):
        tt.load(z)
    g = tmp_path / "garbage.bin"
    g.write_bytes(b"hello world")
    with pytest.raises(CheckpointError, match="not a zip"):
        tt.load(g)
    e = tmp_path / "empty.npz"
    e.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty file"):
        tt.load(e)


def test_damaged_structure_is_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    np.savez(path, __structure__=np.frombuffer(b'{"format": "tinytorch.checkpoint", '
                                               b'"version": 1, "tree": {"t": "array", '
                                               b'"k": "a9"}}', np.uint8))
    with pytest.raises(CheckpointError, match="damaged structure"):
        tt.load(path)


# --------------------------------------------------------------------------- atomic writes


@pytest.mark.parametrize("where", ["savez", "replace"])
def test_crash_mid_write_keeps_previous_checkpoint(tmp_path, monkeypatch, where):
    path = tmp_path / "ckpt.npz"
    old = {"epoch": 1, "w": np.arange(4.0)}
    tt.save(old, path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        if where == "savez":  # die after writing part of the file
            args[0].write(b"PK\x03\x04 half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(np if where == "savez" else os, where, boom)
    with pytest.raises(OSError, match="disk full"):
        tt.save({"epoch": 2, "w": np.arange(1000.0)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # the temporary file was removed
    _assert_same(tt.load(path), old)


def test_lazy_faces():
    assert tt.save is checkpoint.save and tt.load is checkpoint.load


# --------------------------------------------------------------------------- any nested state

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

_DTYPES = st.sampled_from([np.float32, np.float64, np.float16, np.int64, np.int32, np.uint8,
                           np.bool_])
_ARRAYS = _DTYPES.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3,
                                                                      min_side=0, max_side=4)))
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
                    _ARRAYS, _ARRAYS.map(lambda a: tt.Tensor(a)))
_KEYS = st.one_of(st.text(max_size=6), st.integers(-5, 5))
_TREES = st.recursive(_LEAVES, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.lists(kids, max_size=3).map(tuple),
    st.dictionaries(_KEYS, kids, max_size=4)), max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(_TREES)
def test_any_nested_state_round_trips_exactly(tree):
    buf = io.BytesIO()
    tt.save({"root": tree}, buf)
    buf.seek(0)
    _assert_same({"root": tree}, tt.load(buf))
