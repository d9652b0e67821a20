"""``.safetensors``: tt.save/tt.load read and write the format the model hubs and PyTorch use.

The round trip with PyTorch: a torch state_dict saved by the real ``safetensors`` package
loads into the matching tinytorch model, and tinytorch's own file of it loads back into torch,
every tensor bit-identical (dtype included). The format itself is tested without torch too.
"""

import io
import json

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.core.checkpoint import CheckpointError


def _tiny_model():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 6 * 6, 3))


def test_torch_state_dict_round_trip_bit_exact(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4),
                              torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 3))
    ref.train()
    ref(torch.randn(5, 1, 8, 8))  # moves the running statistics and num_batches_tracked
    sd = {k: v.contiguous() for k, v in ref.state_dict().items()}
    st.save_file(sd, str(tmp_path / "torch.safetensors"))

    model = _tiny_model()
    loaded = tt.load(tmp_path / "torch.safetensors", weights_only=True)
    model.load_state_dict(loaded)  # strict: every key matches
    for k, v in model.state_dict().items():
        assert np.array_equal(v.numpy(), sd[k].numpy()), k
        assert v.dtype == sd[k].numpy().dtype, k

    model.eval()
    ref.eval()
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(model(tt.tensor(x)).numpy(), ref(torch.from_numpy(x)).detach(),
                               rtol=1e-5, atol=1e-6)

    tt.save(model.state_dict(), tmp_path / "tiny.safetensors")
    back = st.load_file(str(tmp_path / "tiny.safetensors"))
    assert sorted(back) == sorted(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype and torch.equal(back[k], sd[k]), k


def test_bfloat16_from_torch_widens_to_float32_exactly(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    w = torch.randn(3, 5).to(torch.bfloat16)
    st.save_file({"w": w}, str(tmp_path / "bf16.safetensors"))
    got = tt.load(tmp_path / "bf16.safetensors")["w"]
    assert got.dtype == tt.float32
    assert np.array_equal(got.numpy(), w.float().numpy())


def test_round_trip_without_torch(tmp_path):
    sd = {"a": tt.randn(2, 3), "b": tt.arange(5), "c": tt.tensor([True, False]),
          "d": tt.zeros(0, 4, dtype=tt.float64), "e": np.uint8(7) * np.ones((2,), np.uint8),
          "f": tt.tensor(3.5)}
    path = tmp_path / "w.safetensors"
    tt.save(sd, path, metadata={"format": "pt"})
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    assert n % 8 == 0 and header["__metadata__"] == {"format": "pt"}
    assert header["a"]["dtype"] == "F32" and header["a"]["shape"] == [2, 3]
    back = tt.load(path)
    assert sorted(back) == sorted(sd)
    for k, v in sd.items():
        arr = v.numpy() if isinstance(v, tt.Tensor) else v
        assert back[k].dtype == arr.dtype and np.array_equal(back[k].numpy(), arr), k
    buf = io.BytesIO()  # file objects too, with the format named
    tt.save(sd, buf, format="safetensors", metadata={"format": "pt"})
    assert buf.getvalue() == raw  # the same bytes as the file: the layout is deterministic
    assert sorted(tt.load(io.BytesIO(buf.getvalue()))) == sorted(sd)


def test_refuses_what_it_cannot_hold(tmp_path):
    with pytest.raises(TypeError, match="flat dict"):
        tt.save([tt.zeros(2)], tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="str -> tensor"):
        tt.save({"opt": {"lr": 0.1}}, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_truncated_and_forged_files_raise(tmp_path):
    path = tmp_path / "w.safetensors"
    tt.save({"w": tt.randn(4, 4)}, path)
    raw = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(raw[:-10])
    with pytest.raises(CheckpointError, match="offsets"):
        tt.load(cut)
    header = b'{"w":{"dtype":"F32","shape":[1000],"data_offsets":[0,4000]}}'
    forged = tmp_path / "forged.safetensors"
    forged.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 16)
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        tt.load(forged)
    header = b'{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}'
    forged.write_bytes(len(header).to_bytes(8, "little") + header + b"\0\0")
    with pytest.raises(CheckpointError, match="F8_E4M3"):
        tt.load(forged)


def test_load_accepts_torch_load_arguments(tmp_path):
    path = tmp_path / "ck.pt"
    tt.save({"w": tt.ones(2)}, path)
    assert np.array_equal(tt.load(path, map_location="cpu", weights_only=True)["w"].numpy(),
                          np.ones(2, np.float32))
    with pytest.raises(RuntimeError, match="CPU only"):
        tt.load(path, map_location="cuda")


def test_a_torch_save_file_is_refused_with_the_way_out(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="torch.save.*never unpickles.*save_file"):
        tt.load(tmp_path / "m.pt")
