"""The LightningModule: one model_step, both backward paths, metrics, checkpoints."""

import numpy as np
import pytest
import torch

from tests.training.helpers import flower_data, flower_module, quick_trainer
from torchnn import DeepNetwork, LogisticRegression
from torchnn.training import DeepNetworkModule


@pytest.mark.parametrize("momentum", [0.0, 0.5])  # 0: the fused gd_step path; 0.5: optimizer
def test_explicit_and_autograd_give_the_same_trajectory(momentum):
    """float64 (precision 64-true), so that rounding cannot grow into a visible difference."""
    histories, weights = [], []
    for backward in ("explicit", "autograd"):
        module = flower_module(backward=backward, iterations_per_step=50, momentum=momentum)
        trainer = quick_trainer(max_epochs=6, limit_val_batches=0, precision="64-true")
        trainer.fit(module, flower_data())
        assert trainer.global_step == 300
        histories.append(torch.tensor(module.cost_history))
        weights.append(torch.cat([p.detach().reshape(-1) for p in module.parameters()]))
    assert len(histories[0]) == 300 and weights[0].dtype == torch.float64
    torch.testing.assert_close(histories[0], histories[1], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(weights[0], weights[1], rtol=1e-9, atol=1e-11)
    assert histories[0][-1] < histories[0][0] - 0.05  # and it learned


@pytest.mark.parametrize("backward", ["explicit", "autograd"])
def test_recompute_trains_the_same_trajectory(backward):
    """Activation checkpointing changes what is kept, not the arithmetic: two hidden layers (a
    DenseActivationPairFunction on the autograd path, a rebuilt A^[1] on the explicit one)."""
    histories, weights = [], []
    for recompute in (False, True):
        module = flower_module(backward=backward, hidden_units=[6, 5], iterations_per_step=20,
                               lr=0.5, recompute=recompute)
        assert module.net.recompute is recompute
        quick_trainer(max_epochs=3, limit_val_batches=0, precision="64-true").fit(
            module, flower_data())
        histories.append(torch.tensor(module.cost_history))
        weights.append(torch.cat([p.detach().reshape(-1) for p in module.parameters()]))
    assert len(histories[0]) == 60
    torch.testing.assert_close(histories[1], histories[0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(weights[1], weights[0], rtol=1e-9, atol=1e-11)
    assert histories[0][-1] < histories[0][0]  # and it learned


def test_one_node_graph_trains_the_same_trajectory():
    """graph="network" (one DenseNetworkFunction a step) against a node per layer: the same
    float64 trajectory on the autograd path, through the Lightning loop."""
    histories = []
    for graph in ("layers", "network"):
        module = flower_module(backward="autograd", hidden_units=[6, 5], iterations_per_step=20,
                               lr=0.5, graph=graph)
        assert module.net.graph == graph
        quick_trainer(max_epochs=3, limit_val_batches=0, precision="64-true").fit(
            module, flower_data())
        histories.append(torch.tensor(module.cost_history))
    assert len(histories[0]) == 60
    torch.testing.assert_close(histories[1], histories[0], rtol=1e-10, atol=1e-12)
    assert histories[0][-1] < histories[0][0]
    with pytest.raises(ValueError, match="unknown graph 'one'"):
        flower_module(backward="autograd", graph="one")


def test_float32_explicit_and_autograd_stay_close():
    ends = []
    for backward in ("explicit", "autograd"):
        module = flower_module(backward=backward, iterations_per_step=100)
        quick_trainer(max_epochs=3, limit_val_batches=0).fit(module, flower_data())
        ends.append(module.cost_history[-1])
    assert abs(ends[0] - ends[1]) < 1e-4


def test_one_step_is_the_seed_update_rule():
    """After one iteration, w = w0 - α dw with dw from the network's own backprop."""
    module = flower_module(iterations_per_step=1, lr=0.5)
    x, y = flower_data().full_train_tensors()
    reference = DeepNetwork([2, 4, 1], "tanh", "sigmoid")
    reference.load_state_dict(module.net.state_dict())
    reference.backprop(x, y)
    expected = [p.detach() - 0.5 * p.grad for p in reference.parameters()]
    quick_trainer(max_steps=1, limit_val_batches=0).fit(module, flower_data())
    for got, want in zip(module.net.parameters(), expected):
        torch.testing.assert_close(got.detach(), want)


def test_same_seed_gives_bit_identical_cost_curves():
    runs = []
    for _ in range(2):
        module = flower_module(iterations_per_step=100)
        quick_trainer(max_epochs=3).fit(module, flower_data())
        runs.append(module.cost_history)
    assert len(runs[0]) == 300 and runs[0] == runs[1]


def test_global_step_counts_iterations_and_metrics_are_logged():
    module = flower_module(iterations_per_step=25)
    trainer = quick_trainer(max_epochs=2)
    trainer.fit(module, flower_data())
    assert trainer.global_step == 50 and len(module.cost_history) == 50
    for key in ("train/J", "train/acc", "train/f1", "train/auroc", "val/J", "val/acc"):
        assert key in trainer.callback_metrics, key


def test_regression_metrics_and_relu_output():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = (x @ torch.tensor([[1.0], [-2.0], [0.5]])).relu()
    module = DeepNetworkModule(n_x=3, hidden_units=[8], hidden_activation="relu",
                               output_activation="relu", init="he", lr=0.05)
    assert module.task == "regression"
    cost, a, target = module.model_step((x, y))
    assert a.shape == (64, 1) and (a >= 0).all()
    torch.testing.assert_close(cost, ((a - target) ** 2).mean())
    assert set(module.val_metrics.keys()) == {"val/mse", "val/mae", "val/r2"}


def test_no_hidden_units_is_logistic_regression():
    module = DeepNetworkModule(n_x=5, hidden_units=[])
    assert isinstance(module.net, LogisticRegression) and module.net.layer_dims == [5, 1]


def test_hyperparameters_are_primitive_and_checkpoint_loads_weights_only(tmp_path):
    module = flower_module(iterations_per_step=10)
    trainer = quick_trainer(max_epochs=1, enable_checkpointing=True, default_root_dir=tmp_path)
    trainer.fit(module, flower_data())
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["hyper_parameters"]["lr"] == 1.2
    assert len(ckpt["cost_history"]) == 10
    restored = DeepNetworkModule.load_from_checkpoint(path, weights_only=True)
    assert restored.cost_history == module.cost_history
    for a, b in zip(restored.parameters(), module.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backward": "numeric"}, "unknown backward 'numeric'"),
        ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs'"),
        ({"iterations_per_step": 0}, "iterations_per_step must be an int >= 1 or None .*, got 0"),
        ({"lr": -1.0}, "lr must be a finite number > 0, got -1.0"),
        ({"lr": float("inf")}, "lr must be a finite number > 0, got inf"),
        ({"momentum": -0.5}, "momentum must be a finite number >= 0 .*, got -0.5"),
        ({"momentum": float("nan")}, "momentum must be a finite number >= 0 .*, got nan"),
    ],
)
def test_bad_arguments_name_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DeepNetworkModule(n_x=2, **kwargs)


def test_numpy_scalar_rates_are_saved_as_floats():
    # lr and momentum from numpy (a sweep's np.linspace) are kept as primitives for checkpoints
    module = DeepNetworkModule(n_x=2, lr=np.float32(0.5), momentum=np.float64(0.9))
    assert type(module.hparams.lr) is float and type(module.hparams.momentum) is float
    assert module.hparams.lr == 0.5 and module.hparams.momentum == 0.9


def test_bf16_mixed_trains():
    module = flower_module(backward="autograd", iterations_per_step=50)
    quick_trainer(max_epochs=4, precision="bf16-mixed").fit(module, flower_data())
    assert module.cost_history[-1] < module.cost_history[0] - 0.05
    explicit = flower_module(backward="explicit", iterations_per_step=50)
    quick_trainer(max_epochs=4, precision="bf16-mixed").fit(explicit, flower_data())
    assert explicit.cost_history[-1] < explicit.cost_history[0] - 0.05


@pytest.mark.filterwarnings("ignore:.*AMP with fp16 is not supported on CPU.*")
def test_fp16_with_a_grad_scaler_is_refused():
    module = flower_module(backward="autograd", iterations_per_step=5)
    trainer = quick_trainer(max_epochs=1, precision="16-mixed")
    if getattr(trainer.precision_plugin, "scaler", None) is None:
        pytest.skip("no GradScaler for 16-mixed on this device")
    with pytest.raises(ValueError, match="GradScaler"):
        trainer.fit(module, flower_data())
