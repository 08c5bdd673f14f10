"""The built wheel, installed without the repository: shipped configs by name, ``--version``.

The wheel is built from a copy of the working tree (what a clone has) with ``pip wheel --no-deps
--no-build-isolation`` and installed with ``--no-deps --no-index`` into a fresh venv whose
dependencies come from this venv's site-packages (a ``.pth`` line), so nothing is downloaded: an
isolated build or a resolved ``torch`` requirement would pull a multi-GB CUDA build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import torchnn

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_NO_INDEX"] = "1"  # nothing may come from a package index
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _copy_tree(dest: Path) -> None:
    """The files a clone has: tracked and untracked-but-not-ignored, symlinks kept."""
    listed = _run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the packaging test builds from the clone's files")
    for name in filter(None, listed.stdout.split("\0")):
        src, dst = ROOT / name, dest / name
        if not src.is_symlink() and not src.is_file():
            continue  # deleted in the working tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its ``bin`` folder."""
    tmp = tmp_path_factory.mktemp("packaging")
    src, wheels, venv = tmp / "src", tmp / "wheels", tmp / "venv"
    _copy_tree(src)
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "-w", str(wheels), str(src)], cwd=tmp)
    assert done.returncode == 0, done.stderr
    (wheel,) = wheels.glob("torchnn-*.whl")
    done = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    assert done.returncode == 0, done.stderr
    python = venv / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                cwd=tmp).stdout.strip()
    # torch, Lightning, ... from this venv; its .pth files (the editable torchnn) are not read
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                 "--no-index", str(wheel)], cwd=tmp)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


@pytest.fixture
def empty(tmp_path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_the_installed_package_is_the_wheel_not_the_repository(installed, empty):
    done = _run([str(installed / "python"), "-c", "import torchnn; print(torchnn.__file__)"],
                cwd=empty)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(installed.parent), done.stdout


def test_every_file_of_the_package_is_installed(installed, empty):
    """Data files too (configs, the example CSV, the compiled engine's C source)."""
    done = _run([str(installed / "python"), "-c", "import torchnn; print(torchnn.__file__)"],
                cwd=empty)
    package = Path(done.stdout.strip()).parent
    listed = _run(["git", "ls-files", "-co", "--exclude-standard", "torchnn"], cwd=ROOT)
    shipped = {name.removeprefix("torchnn/") for name in listed.stdout.split()
               if (ROOT / name).is_file()}
    assert shipped and {n for n in shipped if not (package / n).is_file()} == set()


def test_version_prints_the_one_version(installed, empty):
    done = _run([str(installed / "torchnn"), "--version"], cwd=empty)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"torchnn {torchnn.__version__}"


def test_fit_a_shipped_config_by_name_from_an_empty_folder(installed, empty):
    done = _run([str(installed / "torchnn"), "fit", "--config", "flower", "--trainer.max_epochs",
                 "1", "--trainer.enable_progress_bar", "false"], cwd=empty)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "args parameter" not in done.stderr  # LightningCLI read the resolved sys.argv
    run = empty / "runs" / "flower" / "version_0"  # runs/ relative to the working directory
    assert (run / "summary.json").is_file(), sorted(p.name for p in run.iterdir())


def test_a_shipped_file_in_a_shipped_config_is_read_from_the_package(installed, empty):
    done = _run([str(installed / "torchnn"), "fit", "--config", "csv", "--trainer.max_epochs",
                 "1", "--trainer.enable_progress_bar", "false"], cwd=empty)
    assert done.returncode == 0, done.stderr[-3000:]
    config = (empty / "runs" / "csv" / "version_0" / "config.yaml").read_text()
    shipped = installed.parent / "lib"
    assert f"path: {shipped}" in config and "examples/xor.csv" in config


def test_an_unknown_config_name_is_one_line_naming_the_shipped_ones(installed, empty):
    done = _run([str(installed / "torchnn"), "fit", "--config", "flowr"], cwd=empty)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "flowr" in done.stderr and "flower, flower_logistic" in done.stderr
