"""Autocast: under torch.autocast every Function's output has the dtype the native op gives,
backward runs, and gradients come back in the parameters' float32; Lightning's "bf16-mixed"
trains a DeepNetwork. CUDA fp16 / bf16 variants skip without a GPU."""

import lightning as L
import pytest
import torch
import torch.nn.functional as TF
from torch.utils.data import DataLoader, TensorDataset

import torchnn
from tests.transforms.helpers import cases, ids

CPU = [("cpu", torch.bfloat16)]
CUDA = [pytest.param("cuda", d, marks=pytest.mark.cuda) for d in (torch.float16, torch.bfloat16)]


def _on(case, device, dtype=None):
    """The case's inputs on ``device``; floating ones in ``dtype``, leaves (class indices stay)."""
    return [t.to(device) if isinstance(t, torch.Tensor) and not t.is_floating_point()
            else t.detach().to(device, dtype).requires_grad_() if isinstance(t, torch.Tensor)
            else t for t in case.inputs]


@pytest.mark.parametrize("device,amp", CPU + CUDA)
@pytest.mark.parametrize("input_dtype", [torch.float32, "amp"])
@pytest.mark.parametrize("case", cases(), ids=ids())
def test_output_dtype_as_native_and_grads_in_input_dtype(case, device, amp, input_dtype):
    dtype = amp if input_dtype == "amp" else input_dtype
    ours, native = _on(case, device, dtype), _on(case, device, dtype)
    with torch.autocast(device, dtype=amp):
        out, ref = case.fn(*ours), case.reference(*native)
    assert out.dtype == ref.dtype
    out.float().sum().backward()
    ref.float().sum().backward()
    for a, b in zip(ours, native):
        if isinstance(a, torch.Tensor) and a.is_floating_point():
            assert a.grad is not None and a.grad.dtype == a.dtype == b.grad.dtype
            assert a.grad.shape == a.shape
            torch.testing.assert_close(a.grad.float(), b.grad.float(), atol=0.05, rtol=0.05)


@pytest.mark.parametrize("device,amp", CPU + CUDA)
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_network_under_autocast(device, amp, hidden):
    net = torchnn.DeepNetwork([3, 6, 1], hidden_activation=hidden, init="he",
                              generator=torch.Generator().manual_seed(0)).to(device)
    seq = net.to_torch()
    x = torch.randn(16, 3, device=device)
    y = (x[:, :1] > 0).float()
    with torch.autocast(device, dtype=amp):
        assert net(x).dtype == seq(x).dtype == amp
        cost = net.cost(x, y)
        ref = TF.binary_cross_entropy_with_logits(seq[:-1](x), y)
    assert cost.dtype == ref.dtype == torch.float32
    cost.backward()
    ref.backward()
    for p, q in zip(net.parameters(), seq.parameters()):
        assert p.grad.dtype == torch.float32
        torch.testing.assert_close(p.grad, q.grad, atol=0.02, rtol=0.05)


def test_explicit_backprop_under_autocast_gives_float32_grads():
    net = torchnn.DeepNetwork([3, 6, 1], hidden_activation="tanh", init="he",
                              generator=torch.Generator().manual_seed(0))
    x = torch.randn(16, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        net.backprop(x, (x[:, :1] > 0).float())
    assert all(p.grad.dtype == torch.float32 for p in net.parameters())


class TinyModule(L.LightningModule):
    """The smallest LightningModule around a DeepNetwork: J as the training loss, SGD."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torchnn.DeepNetwork([2, 8, 1], hidden_activation="tanh", init="he",
                                       generator=torch.Generator().manual_seed(0))
        self.seen: list[tuple[torch.dtype, torch.dtype]] = []
        self.losses: list[float] = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        self.seen.append((self.net(x).dtype, self.net.cost(x, y).dtype))
        cost = self.net.cost(x, y)
        self.losses.append(cost.item())
        return cost

    def on_after_backward(self) -> None:
        assert all(p.grad is not None and p.grad.dtype == torch.float32
                   for p in self.net.parameters())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)


def test_lightning_bf16_mixed_trains():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=gen)
    y = (x[:, :1] * x[:, 1:] > 0).float()
    module = TinyModule()
    before = [p.detach().clone() for p in module.parameters()]
    trainer = L.Trainer(max_epochs=2, accelerator="cpu", devices=1, precision="bf16-mixed",
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(module, DataLoader(TensorDataset(x, y), batch_size=16))
    assert trainer.global_step == 8
    assert module.seen[0] == (torch.bfloat16, torch.float32)  # A^[L] in bf16, J in float32
    assert all(torch.isfinite(torch.tensor(module.losses)))
    assert all(p.dtype == torch.float32 for p in module.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


@pytest.mark.parametrize("case", cases(), ids=ids())
def test_backward_inside_autocast_keeps_the_forward_precision(case):
    """A graph built without autocast and differentiated inside an autocast region gets the
    same gradients, bit for bit: each Function replays its forward's autocast state (off)."""
    plain, inside = _on(case, "cpu", torch.float32), _on(case, "cpu", torch.float32)
    case.fn(*plain).float().sum().backward()
    out = case.fn(*inside).float().sum()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out.backward()
    for a, b in zip(plain, inside):
        if isinstance(a, torch.Tensor) and a.is_floating_point():
            assert b.grad.dtype == a.grad.dtype == torch.float32
            torch.testing.assert_close(b.grad, a.grad, rtol=0, atol=0)
