"""Train the seed's flower network with a plain Lightning Trainer: no command line, no YAML.

    .venv/bin/python scripts/train_lightning.py            # 10,000 iterations, about 93% accuracy
    .venv/bin/python scripts/train_lightning.py --resume   # continue runs/flower_script's last run

The same pieces the ``torchnn`` command assembles from configs/flower.yaml: a DataModule, the
LightningModule, a logger that writes runs/<name>/version_N, checkpoints, and the run artifacts.
"""

import argparse

import lightning.pytorch as L
import torch

from torchnn.data import FlowerDataModule
from torchnn.training import (
    DeepNetworkModule,
    IterationProgressBar,
    RunArtifacts,
    RunCheckpoint,
    RunLogger,
    latest_run,
    quiet_lightning,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="100 x 100 = 10,000 iterations")
    parser.add_argument("--resume", action="store_true", help="resume the newest run's last.ckpt")
    args = parser.parse_args()

    quiet_lightning()  # Lightning's cloud-logger tip and warnings that say nothing here
    torch.set_num_threads(1)  # tiny matrices: threads only add synchronisation
    L.seed_everything(1, verbose=False)  # the weight initialisation
    data = FlowerDataModule(val_fraction=0.0, seed=1)  # all 400 points, as the course
    model = DeepNetworkModule(
        n_x=data.num_features,  # 2
        hidden_units=[4],  # n[1] = 4
        hidden_activation="tanh",
        output_activation="sigmoid",
        lr=1.2,  # α
        backward="explicit",  # eqs. 2.9-2.12 by hand; "autograd" gives the same gradients
        iterations_per_step=100,
    )
    # resuming reuses the run's own folder (Lightning's ckpt_path="last" would look in a new one)
    found = latest_run("runs", "flower_script") if args.resume else None
    logger = RunLogger("runs", name="flower_script", version=found[0] if found else None)
    trainer = L.Trainer(
        max_epochs=args.epochs,
        logger=logger,
        log_every_n_steps=1,
        enable_model_summary=False,
        callbacks=[
            RunCheckpoint(monitor="val/J", filename="best", save_last=True),  # last: every epoch
            IterationProgressBar(),
            RunArtifacts(),  # cost.png, decision_boundary.png, summary.json
        ],
    )
    trainer.fit(model, datamodule=data, ckpt_path=str(found[1]) if found else None)


if __name__ == "__main__":
    main()
