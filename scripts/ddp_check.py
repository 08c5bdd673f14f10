"""Check that data-parallel training (strategy "ddp", N CPU processes) follows the single-process
full-batch trajectory, and that every parameter gets the same averaged gradient on every rank.

    .venv/bin/python scripts/ddp_check.py                  # 2 processes, both backward paths,
                                                           # sigmoid (flower) and softmax (spiral)
    .venv/bin/python scripts/ddp_check.py --devices 4

Lightning's "ddp" strategy starts the other processes by re-running this script; each gets an
equal slice of the full batch (DistributedSampler), the module all-reduces the mean gradients,
so the update equals the full-batch one. Exit status 0 when every check passes.
"""

import argparse
import sys

import lightning.pytorch as L
import torch

from torchnn.data import FlowerDataModule, SpiralDataModule
from torchnn.training import DeepNetworkModule


class GradientsAgree(L.Callback):
    """After each step: every parameter has a gradient, and it is the same on every rank."""

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args) -> None:
        grads = [p.grad for p in pl_module.parameters()]
        missing = [n for (n, _), g in zip(pl_module.named_parameters(), grads) if g is None]
        if missing:
            raise AssertionError(f"parameters without a gradient: {missing}")
        flat = torch.cat([g.reshape(-1) for g in grads])
        gathered = trainer.strategy.all_gather(flat)  # (world_size, n_params)
        if not torch.equal(gathered.min(0).values, gathered.max(0).values):
            raise AssertionError(f"gradients differ between ranks: {gathered}")


def train(strategy: str, devices: int, backward: str, epochs: int, iterations: int,
          output: str = "sigmoid"):
    L.seed_everything(1, verbose=False)
    # sigmoid: the seed's flower network (m = 400); softmax: 3 classes on the spiral (m = 300)
    n_y, data = (1, FlowerDataModule(val_fraction=0.0)) if output == "sigmoid" else (
        3, SpiralDataModule(val_fraction=0.0))
    module = DeepNetworkModule(n_x=2, hidden_units=[4], n_y=n_y, hidden_activation="tanh",
                               output_activation=output, lr=1.2, backward=backward,
                               iterations_per_step=iterations)
    trainer = L.Trainer(accelerator="cpu", devices=devices, strategy=strategy, max_epochs=epochs,
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, log_every_n_steps=1, num_sanity_val_steps=0,
                        callbacks=[GradientsAgree()] if devices > 1 else [])
    trainer.fit(module, data)  # an equal slice of the rows per rank
    weights = torch.cat([p.detach().reshape(-1) for p in module.parameters()])
    return trainer, weights, torch.tensor(module.cost_history)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2,
                        help="CPU processes (400 % N == 0 and 300 % N == 0)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20, help="iterations per step")
    args = parser.parse_args()
    torch.set_num_threads(1)
    failures = 0
    for output, backward in [(o, b) for o in ("sigmoid", "softmax")
                             for b in ("explicit", "autograd")]:
        _, ref_w, ref_j = train("auto", 1, backward, args.epochs, args.iterations, output)
        trainer, w, j = train("ddp", args.devices, backward, args.epochs, args.iterations, output)
        if trainer.global_rank != 0:
            continue
        dw, dj = (w - ref_w).abs().max().item(), (j - ref_j).abs().max().item()
        ok = len(j) == len(ref_j) and dw < 1e-5 and dj < 1e-5
        failures += not ok
        print(f"ddp x{args.devices} {output:7s} {backward:8s}: {len(j)} iterations, "
              f"max |w_ddp - w_1| = {dw:.2e}, max |J_ddp - J_1| = {dj:.2e}  "
              f"{'OK' if ok else 'FAILED'}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
