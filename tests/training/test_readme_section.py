"""The README's training section: every config is in its table, its images are committed; the
details it links to (docs/training.md) cover every config and the commands it shows."""

import re

from tests.training.helpers import CONFIGS, ROOT


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- section:training -->\n(.*?)<!-- /section:training -->", text, re.S)
    assert found, "README.md has no <!-- section:training --> block"
    return found.group(1)


def _training_doc() -> str:
    return (ROOT / "docs" / "training.md").read_text(encoding="utf-8")


def test_every_config_is_in_the_table():
    section, doc = _section(), _training_doc()
    for config in sorted(CONFIGS.glob("*.yaml")):
        assert f"`configs/{config.name}`" in section, config.name
        assert f"`configs/{config.name}`" in doc, f"docs/training.md: {config.name}"


def test_the_embedded_images_exist_and_are_pngs():
    section = _section()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", section)
    assert {"docs/cost.png", "docs/decision_boundary.png"} <= set(images)
    for image in images:
        assert (ROOT / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image


def test_the_main_job_command_is_shown():
    assert ".venv/bin/torchnn fit --config configs/flower.yaml" in _section()
    assert "(docs/training.md)" in _section()


def test_the_commands_in_the_training_doc_name_real_configs():
    for config in re.findall(r"--config (configs/\S+\.yaml)", _training_doc()):
        assert (ROOT / config).is_file(), config
