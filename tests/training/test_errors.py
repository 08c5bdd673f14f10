"""Configs that cannot work end in one ``torchnn: error:`` line naming what was got and what was
expected, exit status 2 and nothing written; the ones that can work (64-true, mini-batches) do."""

import json

import pytest

from tests.training.helpers import CONFIGS, QUIET, folder_bytes
from torchnn.cli import main

FLOWER = ["--config", str(CONFIGS / "flower.yaml"), "--trainer.max_epochs", "1",
          "--model.iterations_per_step", "5", *QUIET]
CANCER = ["--config", str(CONFIGS / "breast_cancer.yaml"), *QUIET]
CASES = {  # arguments ({run}: a finished flower run), the message
    "checkpoint-of-another-network": (
        ["validate", *CANCER, "--ckpt_path", "{run}/checkpoints/last.ckpt"],
        "net.layers.0.weight (4, 2) in the checkpoint, (4, 30) here"),
    "n_y-on-binary-data": (
        ["fit", *CANCER, "--model.n_y", "3"],
        "model.n_y is set from the data (data.num_outputs: C for a multiclass data set, else "
        "1); expected no model.n_y in the config or on the command line"),
    "gradient_clip_val": (
        ["fit", *FLOWER, "--trainer.gradient_clip_val", "0.5"],
        "trainer.gradient_clip_val is 0.5, but"),
    "accumulate_grad_batches": (
        ["fit", *FLOWER, "--trainer.accumulate_grad_batches", "2"],
        "trainer.accumulate_grad_batches is 2, but"),
    "fp16-with-a-grad-scaler": (
        ["fit", *FLOWER, "--trainer.precision", "16-mixed"],
        "trainer.precision is '16-mixed': float16 with a gradient scaler"),
    "lr-nan": (["fit", *FLOWER, "--model.lr", "nan"], "lr must be a finite number > 0, got nan"),
    "momentum-inf": (["fit", *FLOWER, "--model.momentum", "inf"],
                     "momentum must be a finite number >= 0 (0: plain gradient descent), got inf"),
    "a-folder-as-checkpoint": (
        ["validate", *FLOWER, "--ckpt_path", "{run}"],
        "'{run}' is a folder; expected a .ckpt file, e.g. '{run}/checkpoints/last.ckpt'"),
}


@pytest.fixture(scope="module")
def flower_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flower")
    main(["fit", *FLOWER, "--trainer.logger.init_args.save_dir", str(folder)])
    return folder / "flower" / "version_0"


@pytest.mark.parametrize("case", CASES)
def test_errors_that_were_tracebacks_are_one_line_and_write_nothing(case, flower_run, tmp_path,
                                                                     monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args, message = ([a.format(run=flower_run) for a in CASES[case][0]],
                     CASES[case][1].format(run=flower_run))
    capsys.readouterr()
    before = folder_bytes(flower_run)
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("torchnn: error: ")]
    assert exit_.value.code == 2, err
    assert len(errors) == 1 and message in errors[0], err
    assert "Traceback" not in err and len(err.splitlines()) <= 2, err  # "Seed set to 1" at most
    assert list(tmp_path.iterdir()) == [] and folder_bytes(flower_run) == before  # nothing written


def test_float64_precision_completes_the_run(tmp_path, monkeypatch):
    # the decision-boundary grid goes to the model in the parameters' dtype
    monkeypatch.chdir(tmp_path)
    main(["fit", "--config", str(CONFIGS / "flower.yaml"), "--trainer.max_epochs", "2",
          "--model.iterations_per_step", "5", "--trainer.precision", "64-true", *QUIET])
    run = tmp_path / "runs" / "flower" / "version_0"
    assert json.loads((run / "summary.json").read_text())["status"] == "complete"
    assert (run / "decision_boundary.png").is_file() and not (run / "error.txt").exists()


def test_mini_batches_get_one_update_each_unless_asked(tmp_path, monkeypatch):
    """breast_cancer: 341 training rows in batches of 32 = 11 batches an epoch."""
    monkeypatch.chdir(tmp_path)
    base = ["fit", "--config", str(CONFIGS / "breast_cancer.yaml"), "--trainer.max_epochs", "2",
            "--data.init_args.batch_size", "32", *QUIET]
    main(base)
    main([*base, "--model.iterations_per_step", "3"])
    runs = tmp_path / "runs" / "breast_cancer"
    iterations = [json.loads((runs / f"version_{n}" / "summary.json").read_text())["iterations"]
                  for n in (0, 1)]
    assert iterations == [22, 66]
