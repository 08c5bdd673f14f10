"""The ``torchnn`` command: every config, the console entry point, and clear config errors."""

import json

import pytest
import torch

from tests.training.helpers import CONFIGS, ROOT, run_torchnn
from torchnn.cli import main
from torchnn.training.cli import TorchnnCLI

CONFIG_NAMES = sorted(p.stem for p in CONFIGS.glob("*.yaml"))


def test_every_config_is_tested():
    assert {"flower", "flower_logistic", "breast_cancer", "housing", "csv"} <= set(CONFIG_NAMES)


@pytest.mark.parametrize("name", CONFIG_NAMES)
def test_config_fast_dev_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["fit", "--config", str(CONFIGS / f"{name}.yaml"), "--trainer.fast_dev_run", "true",
            "--trainer.accelerator", "cpu"]
    if name == "csv":
        args += ["--data.init_args.path", str(ROOT / "examples" / "xor.csv")]
    cli = TorchnnCLI(args=args)
    assert cli.trainer.global_step == cli.model.iterations_per_batch()  # one step of iterations
    assert cli.model.net.layer_dims[0] == cli.datamodule.num_features  # the link
    assert list(tmp_path.iterdir()) == []  # fast_dev_run writes nothing


def test_console_entry_point_fast_dev_run(tmp_path):
    done = run_torchnn("fit", "--config", str(CONFIGS / "flower.yaml"),
                       "--trainer.fast_dev_run", "true", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "warn" not in done.stderr.lower(), done.stderr
    assert "Trained 1000 gradient-descent iterations" in done.stdout


def test_print_config_shows_the_resolved_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--config", str(CONFIGS / "flower.yaml"), "--print_config"])
    assert exit_.value.code in (None, 0)
    shown = capsys.readouterr().out
    assert "hidden_units:\n  - 4" in shown and "lr: 1.2" in shown and "name: flower" in shown


def test_config_errors_are_clear(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    text = (CONFIGS / "flower.yaml").read_text()
    (tmp_path / "unknown.yaml").write_text(text.replace("  lr: 1.2 ", "  lrr: 1.2"))
    (tmp_path / "wrong_type.yaml").write_text(text.replace("  lr: 1.2 ", "  lr: fast"))
    cases = [
        (["--config", "unknown.yaml"], "does not accept option 'model.lrr'"),
        (["--config", "wrong_type.yaml"], 'Parser key "model.lr"'),
        (["--config", "missing.yaml"], "missing.yaml: no such file"),
        (["--config", str(CONFIGS / "csv.yaml"), "--data.init_args.path", "nope.csv"],
         "CSV file not found: 'nope.csv'"),
        (["--config", str(CONFIGS / "housing.yaml"), "--model.output_activation", "sigmoid"],
         "data task is 'regression'"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_:
            main(["fit", *args])
        stderr = capsys.readouterr().err
        assert exit_.value.code == 2, (args, stderr)
        assert message in stderr, (args, stderr)
        assert len(stderr.strip().splitlines()) <= 4, stderr  # a message, not the usage dump
    assert not (tmp_path / "runs").exists()  # no run folder for a config that failed


# NOTE: ids that are not "cuda": conftest skips every test with a "cuda" keyword without a GPU
@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA device")
@pytest.mark.parametrize("accelerator", ["gpu", "cuda"], ids=["as-gpu", "as-cuda"])
def test_a_gpu_this_machine_lacks_is_a_clear_error(accelerator, tmp_path, monkeypatch, capsys):
    # Lightning raises MisconfigurationException from deep inside Trainer(): no traceback here
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--config", str(CONFIGS / "flower.yaml"), "--trainer.accelerator",
              accelerator])
    stderr = capsys.readouterr().err
    assert exit_.value.code == 2, stderr
    assert "Traceback" not in stderr and stderr.startswith("torchnn: error: the trainer"), stderr
    assert f"accelerator '{accelerator}' asked for a GPU" in stderr, stderr
    assert "expected --trainer.accelerator cpu or auto" in stderr, stderr
    assert not (tmp_path / "runs").exists()


def test_bench_subcommand_forwards_or_explains(tmp_path):
    done = run_torchnn("bench", "--help", cwd=tmp_path)
    try:
        import torchnn.bench  # noqa: F401
    except ModuleNotFoundError:
        assert done.returncode == 2 and "torchnn.bench" in done.stderr
    else:
        assert done.returncode == 0, done.stderr


def test_top_level_help_names_the_main_job_and_bench(capsys):
    # the subcommand list comes from Lightning; bench is routed before it, so the help says so
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    flat = " ".join(out.split())  # the help formatter wraps lines
    assert "torchnn fit --config configs/flower.yaml" in flat
    assert "torchnn bench [options]" in flat and "Lightning Trainer command line tool" not in flat


@pytest.mark.slow
def test_flower_main_job_end_to_end(tmp_path):
    """The README's main job: >= 88% training accuracy (the course: 90.5%), plots, summary."""
    done = run_torchnn("fit", "--config", str(CONFIGS / "flower.yaml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run = tmp_path / "runs" / "flower" / "version_0"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["iterations"] == 10_000
    assert summary["metrics"]["train/acc"] >= 0.88
    assert f"Run folder: {run.relative_to(tmp_path)}" in done.stdout
    for name in ("config.yaml", "metrics.csv", "cost.csv", "checkpoints/last.ckpt",
                 "checkpoints/best.ckpt"):
        assert (run / name).is_file(), name
    for name in ("cost.png", "decision_boundary.png"):
        data = (run / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        import matplotlib.image

        image = matplotlib.image.imread(run / name)
        assert image.shape[0] >= 300 and image.shape[1] >= 300 and image.std() > 0.05
    # stderr of the default job: Lightning's info lines only, no warnings
    assert "warn" not in done.stderr.lower(), done.stderr
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 10_000


def test_validate_test_predict_use_the_checkpoints_run_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["--config", str(CONFIGS / "breast_cancer.yaml"), "--trainer.max_epochs", "2",
            "--model.iterations_per_step", "10", "--trainer.enable_progress_bar", "false"]
    main(["fit", *base])
    run = tmp_path / "runs" / "breast_cancer" / "version_0"
    config = (run / "config.yaml").read_text()
    for subcommand in ("validate", "test", "predict"):
        main([subcommand, *base, "--ckpt_path", "last"])
    assert sorted(p.name for p in run.parent.iterdir()) == ["version_0"]
    assert (run / "config.yaml").read_text() == config  # the training config is kept
    header = (run / "metrics.csv").read_text().splitlines()[0]
    assert "test/acc" in header and "val/auroc" in header
    rows = (run / "predictions.csv").read_text().splitlines()
    assert rows[0] == "row,probability,prediction,benign" and len(rows) == 1 + 114  # test split
    assert all(0.0 <= float(r.split(",")[1]) <= 1.0 for r in rows[1:])
    with pytest.raises(SystemExit):
        main(["test", "--config", str(CONFIGS / "flower.yaml"), "--ckpt_path", "last"])
    assert "has no test split" in capsys.readouterr().err
