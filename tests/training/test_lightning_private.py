"""The private Lightning APIs torchnn.training relies on exist in the installed Lightning, and
each helper in ``torchnn/training/_lightning.py`` gives its fallback without them."""

from types import SimpleNamespace

import lightning.pytorch as L

from torchnn.training import _lightning


def test_the_installed_lightning_has_every_private_api_used():
    assert _lightning.missing() == []


def test_fallbacks_without_the_private_attributes():
    assert _lightning.step_progress(SimpleNamespace()) is None
    assert _lightning.train_progress_bar(SimpleNamespace()) is None
    module = L.LightningModule()
    assert _lightning.attached_trainer(module) is None
    trainer = L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    assert _lightning.step_progress(trainer) is not None
