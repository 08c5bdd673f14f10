"""``torchnn --version`` and ``--config NAME``: the shipped configs by name, without Lightning."""

import subprocess
import sys
from pathlib import Path

import pytest

import torchnn
from torchnn.cli import CONFIGS, main, resolve_configs, shipped_configs

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_configs_are_the_clones_configs_folder():
    assert shipped_configs() == sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
    assert "flower" in shipped_configs() and (CONFIGS / "examples" / "xor.csv").is_file()


def test_a_name_becomes_the_shipped_file_and_a_path_stays(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_configs(["fit", "--config", "flower"]) == [
        "fit", "--config", str(CONFIGS / "flower.yaml")]
    assert resolve_configs(["fit", "--config=flower.yaml"])[2] == str(CONFIGS / "flower.yaml")
    own = tmp_path / "flower.yaml"  # a file of that name in the working folder wins
    own.write_text("trainer:\n  max_epochs: 1\n")
    assert resolve_configs(["fit", "--config", "flower.yaml"])[2] == "flower.yaml"
    inline = "trainer: {max_epochs: 2}"  # jsonargparse's inline YAML passes through
    assert resolve_configs(["fit", "--config", inline]) == ["fit", "--config", inline]


def test_a_shipped_file_named_by_a_shipped_config_resolves_in_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = resolve_configs(["fit", "--config", "csv", "--data.init_args.path", "my.csv"])
    # the shipped CSV right after the config, so a later command-line value still wins
    assert args == ["fit", "--config", str(CONFIGS / "csv.yaml"), "--data.init_args.path",
                    str(CONFIGS / "examples" / "xor.csv"), "--data.init_args.path", "my.csv"]
    # runs/ is a folder, not a shipped file: it stays relative to the working folder
    assert not any("runs" in a for a in resolve_configs(["fit", "--config", "flower"]))


@pytest.mark.parametrize("value", ["flowr", "nope.yaml", "missing/flower.yaml"])
def test_an_unknown_config_is_one_line_listing_the_shipped_names(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--config", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and value in err and ", ".join(shipped_configs()) in err


def test_version_needs_neither_torch_nor_lightning():
    code = ("import sys; from torchnn.cli import main; main(['--version']); "
            "assert not {'torch', 'lightning'} & set(sys.modules), sorted(sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"torchnn {torchnn.__version__}\n"
