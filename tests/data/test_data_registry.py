"""The registry, hyperparameters that stay primitive, and a Lightning round trip."""

import ast
import inspect
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch

import torchnn.data
from torchnn.data import DATASETS, TabularDataModule, make_datamodule

PRIMITIVES = (int, float, str, bool, type(None))
IN_MEMORY = [name for name in DATASETS if name != "csv"]


def test_registry_names():
    assert set(DATASETS) == {"flower", "moons", "circles", "breast_cancer", "diabetes", "csv",
                             "digits", "iris", "spiral"}
    assert all(issubclass(cls, TabularDataModule) for cls in DATASETS.values())


def test_make_datamodule_names_unknown_sets():
    with pytest.raises(ValueError, match="unknown data set 'mnist'; expected one of .*flower"):
        make_datamodule("mnist")


@pytest.mark.parametrize("name", IN_MEMORY)
def test_num_features_before_setup_and_primitive_hyperparameters(name):
    dm = make_datamodule(name)
    assert dm.num_features >= 2 and dm.train_dataset is None
    assert all(isinstance(v, PRIMITIVES) for v in dm.hparams.values())
    # exactly the constructor's arguments, so the class can be rebuilt from them
    assert set(dm.hparams) == set(inspect.signature(type(dm)).parameters)
    rebuilt = type(dm)(**dm.hparams)
    assert torch.equal(rebuilt.full_train_tensors()[0], dm.full_train_tensors()[0])


@pytest.mark.parametrize("cls", DATASETS.values())
def test_constructor_arguments_are_annotated_and_documented(cls):
    doc = inspect.getdoc(cls)
    for name, parameter in inspect.signature(cls).parameters.items():
        assert parameter.annotation is not inspect.Parameter.empty, name
        assert f"{name}:" in doc, name


class _Probe(pl.LightningModule):
    def __init__(self, n_x: int) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(n_x, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.binary_cross_entropy_with_logits(self.layer(x), y)

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self.training_step(batch, batch_idx))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_trainer_round_trip_with_weights_only_checkpoint(tmp_path):
    dm = make_datamodule("flower", val_fraction=0.25, n_per_class=20)
    trainer = pl.Trainer(max_epochs=2, default_root_dir=tmp_path, logger=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(_Probe(dm.num_features), datamodule=dm)
    assert trainer.num_training_batches == 1  # full batch
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint["datamodule_hyper_parameters"]["n_per_class"] == 20
    loaded = type(dm).load_from_checkpoint(path, weights_only=True)
    assert torch.equal(loaded.full_train_tensors()[0], dm.full_train_tensors()[0])


def test_data_package_stands_alone():
    """Dependencies run one way: torchnn.data imports nothing else from torchnn."""
    package = Path(torchnn.data.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith("torchnn") or name.startswith("torchnn.data"), source
