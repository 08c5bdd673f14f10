"""The swap a PyTorch user makes (issue 19): a LightningModule written for torch.nn, its
``nn.Linear`` / ``nn.LeakyReLU(0.2, inplace=True)`` / ``nn.ReLU(inplace=True)`` /
``F.binary_cross_entropy_with_logits(..., pos_weight=...)`` replaced by torchnn's, everything
else (``BatchNorm1d``, ``nn.Sequential``, Adam, the DataLoader) left as it is. From the same
seed, with ``init="linear"``, the two runs agree in float64 step by step."""

import functools
from types import SimpleNamespace

import lightning as L
import torch
import torch.nn.functional as TF
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import torchnn
from torchnn import functional as F

TORCH = SimpleNamespace(Linear=nn.Linear, LeakyReLU=nn.LeakyReLU, ReLU=nn.ReLU, functional=TF)
TORCHNN = SimpleNamespace(Linear=functools.partial(torchnn.Dense, init="linear"),
                          LeakyReLU=torchnn.LeakyReLU, ReLU=torchnn.ReLU, functional=F)


class Classifier(L.LightningModule):
    """A discriminator as the Lightning GAN template writes one, with a class-weighted loss."""

    def __init__(self, lib: SimpleNamespace) -> None:
        super().__init__()
        self.lib = lib
        self.model = nn.Sequential(
            lib.Linear(8, 32), nn.BatchNorm1d(32), lib.LeakyReLU(0.2, inplace=True),
            lib.Linear(32, 16), nn.BatchNorm1d(16), lib.ReLU(inplace=True),
            lib.Linear(16, 1))
        self.register_buffer("pos_weight", torch.tensor([3.0]))
        self.losses: list[float] = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.lib.functional.binary_cross_entropy_with_logits(
            self.model(x), y, pos_weight=self.pos_weight)
        self.losses.append(loss.item())
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def _fit(lib: SimpleNamespace, tmp_path) -> Classifier:
    L.seed_everything(7, verbose=False)
    module = Classifier(lib)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=g)
    y = ((x[:, :1] * x[:, 1:2] + 0.3 * x[:, 2:3]) > 0.5).float()  # ~25 % positives
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(1))
    trainer = L.Trainer(accelerator="cpu", devices=1, max_epochs=3, precision="64-true",
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path,
                        deterministic=True)
    trainer.fit(module, loader)
    return module


def test_swapped_lightning_module_trains_as_torch_nn_step_by_step(tmp_path):
    ref, ours = _fit(TORCH, tmp_path), _fit(TORCHNN, tmp_path)
    assert any(isinstance(m, torchnn.Dense) for m in ours.modules())
    assert not any(isinstance(m, nn.Linear) for m in ours.modules())
    assert len(ours.losses) == len(ref.losses) == 24  # 8 batches x 3 epochs
    assert ref.losses[-1] < 0.8 * ref.losses[0]  # it does learn
    for step, (a, b) in enumerate(zip(ours.losses, ref.losses)):
        assert abs(a - b) <= 1e-9, f"step {step}: torchnn J = {a!r}, torch.nn J = {b!r}"
    for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters(), strict=True):
        assert p.dtype == torch.float64
        torch.testing.assert_close(p, q, rtol=0, atol=1e-9, msg=name)
    for (name, b), (_, c) in zip(ours.named_buffers(), ref.named_buffers(), strict=True):
        torch.testing.assert_close(b, c, rtol=0, atol=1e-9, msg=name)  # BatchNorm's statistics
