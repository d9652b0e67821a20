"""nn.Transformer, nn.TransformerDecoder(Layer) against PyTorch: the same state_dict keys,
and with torch's weights loaded the same outputs and gradients (masks, padding, batch_first,
pre-norm, gelu)."""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn

torch = pytest.importorskip("torch")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("kw", [{}, {"batch_first": True, "norm_first": True,
                                     "activation": "gelu"}], ids=["post-norm", "pre-norm-bf"])
def test_transformer_matches_torch(kw):
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
                                  dim_feedforward=16, dropout=0.0, **kw)
    ours = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
                          dim_feedforward=16, dropout=0.0, **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    bf = kw.get("batch_first", False)
    src = rng.standard_normal((3, 5, 8) if bf else (5, 3, 8)).astype(np.float32)
    tgt = rng.standard_normal((3, 4, 8) if bf else (4, 3, 8)).astype(np.float32)
    pad = np.zeros((3, 5), dtype=bool)
    pad[1, 3:] = True
    mask_t = torch.nn.Transformer.generate_square_subsequent_mask(4)
    mask_o = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(mask_o.numpy(), mask_t.numpy())
    a, b = tt.tensor(src, requires_grad=True), torch.tensor(src, requires_grad=True)
    y = ours(a, tt.tensor(tgt), tgt_mask=mask_o, src_key_padding_mask=tt.tensor(pad),
             memory_key_padding_mask=tt.tensor(pad))
    z = theirs(b, torch.tensor(tgt), tgt_mask=mask_t, src_key_padding_mask=torch.tensor(pad),
               memory_key_padding_mask=torch.tensor(pad))
    np.testing.assert_allclose(y.numpy(), z.detach().numpy(), rtol=1e-4, atol=1e-5)
    w = rng.standard_normal(tuple(z.shape)).astype(np.float32)
    y.backward(tt.tensor(w))
    z.backward(torch.tensor(w))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-3, atol=1e-5)
    for (k, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=k)


def test_decoder_layer_alone_and_fresh_init():
    torch.manual_seed(1)
    theirs = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0)
    ours = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(1)
    tgt, mem = rng.standard_normal((4, 8)).astype(np.float32), rng.standard_normal((6, 8)).astype(
        np.float32)  # unbatched
    np.testing.assert_allclose(ours(tt.tensor(tgt), tt.tensor(mem)).numpy(),
                               theirs(torch.tensor(tgt), torch.tensor(mem)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    fresh = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=16)
    w = fresh.decoder.layers[0].linear1.weight.numpy()
    bound = np.sqrt(6 / (8 + 16))  # Xavier-uniform, as torch's _reset_parameters
    assert np.abs(w).max() <= bound and w.std() > bound / 3
    with pytest.raises(RuntimeError, match="batch number"):
        fresh(tt.zeros(5, 2, 8), tt.zeros(4, 3, 8))
