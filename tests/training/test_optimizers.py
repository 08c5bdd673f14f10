"""Any torch.optim optimizer and scheduler, the LightningCLI way (``optimizer:`` /
``lr_scheduler:``), on both backward paths; the module steps the schedulers itself."""

import math

import pytest
import torch

from tests.training.helpers import CONFIGS, QUIET, flower_data, flower_module, quick_trainer
from torchnn.cli import main
from torchnn.nn import DeepNetwork

FLOWER = ["--config", str(CONFIGS / "flower.yaml"), *QUIET]


def _last(tmp_path, name):
    return torch.load(tmp_path / "runs" / name / "version_0" / "checkpoints" / "last.ckpt",
                      weights_only=True)


@pytest.mark.parametrize("backward", ["explicit", "autograd"])
def test_shipped_adam_cosine_config_trains_and_steps_once_per_epoch(tmp_path, monkeypatch,
                                                                     backward):
    monkeypatch.chdir(tmp_path)
    main(["fit", "--config", str(CONFIGS / "breast_cancer_adam.yaml"), *QUIET,
          "--trainer.max_epochs", "6", "--lr_scheduler.T_max", "10",
          "--model.backward", backward])
    ckpt = _last(tmp_path, "breast_cancer_adam")
    assert ckpt["lr_schedulers"][0]["last_epoch"] == 6  # once per epoch, not per batch
    assert "exp_avg" in ckpt["optimizer_states"][0]["state"][0]  # Adam's moments
    lr = ckpt["optimizer_states"][0]["param_groups"][0]["lr"]
    assert lr == pytest.approx(0.003 * (1 + math.cos(math.pi * 6 / 10)) / 2, rel=1e-9)
    costs = ckpt["cost_history"]
    assert len(costs) == 66 and costs[-10:].mean() < 0.5 * costs[:10].mean()


def test_the_optimizers_own_lr_wins_over_model_lr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["fit", *FLOWER, "--trainer.max_epochs", "1", "--model.iterations_per_step", "3",
          "--model.lr", "5.0", "--optimizer", "torch.optim.SGD", "--optimizer.lr", "0.1",
          "--optimizer.momentum", "0.9"])
    group = _last(tmp_path, "flower")["optimizer_states"][0]["param_groups"][0]
    assert group["lr"] == 0.1 and group["momentum"] == 0.9


def test_per_iteration_schedule_on_the_fused_gd_step_equals_the_loop_by_hand():
    """Plain SGD takes DeepNetwork.gd_step's fused update; the lr it reads must follow the
    scheduler after every iteration: the same weights as the seed's loop with α_t = α γ^t."""
    module = flower_module(iterations_per_step=20, lr_scheduler_interval="iteration")
    reference = DeepNetwork([2, 4, 1], "tanh").double()
    reference.load_state_dict(module.net.state_dict())

    def configure_optimizers():
        opt = torch.optim.SGD(module.parameters(), lr=1.2)
        return [opt], [torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)]

    module.configure_optimizers = configure_optimizers
    data = flower_data()
    quick_trainer(max_epochs=2, limit_val_batches=0, precision="64-true").fit(module, data)
    x, y = data.full_train_tensors()
    for t in range(40):
        reference.gd_step(x.double(), y.double(), 1.2 * 0.9 ** t)
    assert module.net.layers[0].weight.dtype == torch.float64
    for a, b in zip(module.net.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_reduce_lr_on_plateau_reads_val_j(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["fit", *FLOWER, "--trainer.max_epochs", "4", "--model.iterations_per_step", "2",
          "--data.init_args.val_fraction", "0.2", "--model.lr", "0.001",
          "--trainer.check_val_every_n_epoch", "2", "--checkpoint.every_n_epochs", "10",
          "--lr_scheduler", "ReduceLROnPlateau", "--lr_scheduler.monitor", "val/J",
          "--lr_scheduler.patience", "0", "--lr_scheduler.threshold", "0.5"])
    ckpt = _last(tmp_path, "flower")
    state = ckpt["lr_schedulers"][0]
    # validated at epochs 2 (the first value: the best so far) and 4 (short of the 50 %
    # improvement asked for, patience 0): one cut, and no step at the epochs that did not
    # validate. (last.ckpt written at the end of fit: one written at a validation holds the
    # scheduler before that validation's step)
    assert state["last_epoch"] == 2 and state["num_bad_epochs"] == 0
    lr = ckpt["optimizer_states"][0]["param_groups"][0]["lr"]
    assert lr == pytest.approx(0.001 * 0.1)


def test_unknown_model_optimizer_names_the_lightningcli_form(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["fit", *FLOWER, "--model.optimizer", "rmsprop"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "unknown optimizer 'rmsprop'" in err and "--optimizer torch.optim.NAME" in err
    assert not (tmp_path / "runs").exists()


def test_adam_and_momentum_shorthands_still_step():
    for kwargs in ({"optimizer": "adam", "lr": 0.05}, {"momentum": 0.9, "lr": 0.1}):
        module = flower_module(iterations_per_step=50, **kwargs)
        quick_trainer(max_epochs=2, limit_val_batches=0).fit(module, flower_data())
        assert module.cost_history[-1] < module.cost_history[0]
