"""Checkpoints that mean what they say: last.ckpt is the last state, evaluation never cuts the
history, and a finished run is never retrained or damaged by a resume."""

import csv
import json

import pytest
import torch

from tests.training.helpers import CONFIGS, QUIET, folder_bytes, last_weights
from torchnn.cli import main


def _rows(path):
    """metrics.csv as a list of {column: value}, empty cells left out (a new column adds some)."""
    with path.open(newline="") as f:
        return [{k: v for k, v in row.items() if v} for row in csv.DictReader(f)]


def _ckpt(run, name="last"):
    return torch.load(run / "checkpoints" / f"{name}.ckpt", map_location="cpu", weights_only=True)


@pytest.mark.slow
def test_housing_journey_last_is_the_final_state_and_validate_keeps_the_history(
        tmp_path, monkeypatch, capsys):
    """fit 20 epochs -> last.ckpt holds epoch 19 -> validate --ckpt_path last reports the final
    model and adds its row to metrics.csv -> fit --ckpt_path last has nothing to do."""
    monkeypatch.chdir(tmp_path)
    base = ["--config", str(CONFIGS / "housing.yaml"), *QUIET]
    main(["fit", *base])
    run = tmp_path / "runs" / "housing" / "version_0"
    last, best = _ckpt(run), _ckpt(run, "best")
    assert (last["epoch"], last["global_step"]) == (19, 2000)
    assert best["epoch"] < 19  # val/J stops improving early: best.ckpt keeps the best
    final_r2 = json.loads((run / "summary.json").read_text())["metrics"]["val/r2"]
    fitted = _rows(run / "metrics.csv")
    assert {float(r["epoch"]) for r in fitted} == set(range(20))

    main(["validate", *base, "--ckpt_path", "last"])
    rows = _rows(run / "metrics.csv")
    assert rows[: len(fitted)] == fitted  # every row fit logged, unchanged
    assert len(rows) == len(fitted) + 1 and float(rows[-1]["val/r2"]) == pytest.approx(final_r2)

    capsys.readouterr()
    before = folder_bytes(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["fit", *base, "--ckpt_path", "last"])
    out = capsys.readouterr().out.strip()
    assert exit_.value.code == 0 and len(out.splitlines()) == 1, out
    assert out.startswith("torchnn: nothing to do") and "ends at epoch 19" in out, out
    assert folder_bytes(tmp_path) == before


def test_last_is_written_at_the_end_of_fit_between_checkpoint_epochs(tmp_path, monkeypatch):
    """flower checkpoints every 10 epochs: 15 epochs still leave last.ckpt at the end, and it
    resumes to exactly the run that trained 20 epochs straight."""
    monkeypatch.chdir(tmp_path)
    base = ["fit", "--config", str(CONFIGS / "flower.yaml"), "--model.iterations_per_step", "10",
            *QUIET]
    main([*base, "--trainer.max_epochs", "15", "--trainer.logger.init_args.name", "part"])
    part = tmp_path / "runs" / "part" / "version_0"
    assert _ckpt(part)["global_step"] == 150
    main([*base, "--trainer.max_epochs", "20", "--trainer.logger.init_args.name", "part",
          "--ckpt_path", "last"])
    main([*base, "--trainer.max_epochs", "20", "--trainer.logger.init_args.name", "whole"])
    whole = tmp_path / "runs" / "whole" / "version_0"
    a, b = last_weights(whole), last_weights(part)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (whole / "cost.csv").read_text() == (part / "cost.csv").read_text()
    assert sorted(p.name for p in part.parent.iterdir()) == ["version_0"]


def test_resuming_a_finished_run_with_fewer_epochs_is_refused_and_changes_nothing(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    base = ["fit", "--config", str(CONFIGS / "flower.yaml"), "--model.iterations_per_step", "5",
            *QUIET]
    main([*base, "--trainer.max_epochs", "30"])
    last = tmp_path / "runs" / "flower" / "version_0" / "checkpoints" / "last.ckpt"
    capsys.readouterr()
    before = folder_bytes(tmp_path)
    for ckpt in ("last", str(last)):
        with pytest.raises(SystemExit) as exit_:
            main([*base, "--trainer.max_epochs", "20", "--ckpt_path", ckpt])
        err = capsys.readouterr().err.strip()
        assert exit_.value.code == 2 and len(err.splitlines()) == 1, err
        assert err.startswith("torchnn: error: checkpoint") and "ends at epoch 29" in err, err
        assert "--trainer.max_epochs 20 asked for" in err, err
        assert "expected --trainer.max_epochs 30 or more" in err, err
    assert folder_bytes(tmp_path) == before  # no file created, changed or deleted


def test_a_list_of_loggers_resumes_in_the_runs_own_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    loggers = ("[{class_path: torchnn.training.RunLogger, init_args: {name: a}}, "
               "{class_path: torchnn.training.RunLogger, init_args: {name: b}}]")
    base = ["fit", "--config", str(CONFIGS / "flower.yaml"), "--model.iterations_per_step", "5",
            "--trainer.logger", loggers, *QUIET]
    main([*base, "--trainer.max_epochs", "2"])
    main([*base, "--trainer.max_epochs", "4", "--ckpt_path", "last"])
    runs = tmp_path / "runs"
    assert sorted(str(p.relative_to(runs)) for p in runs.glob("*/version_*")) == [
        "a/version_0", "b/version_0"]  # no new version_1 in either
    summary = json.loads((runs / "a" / "version_0" / "summary.json").read_text())
    assert summary["iterations"] == 20 and _ckpt(runs / "a" / "version_0")["global_step"] == 20
