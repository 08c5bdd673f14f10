"""The README's training section: every config is in its table, its images are committed."""

import re

from tests.training.helpers import CONFIGS, ROOT


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- section:training -->\n(.*?)<!-- /section:training -->", text, re.S)
    assert found
    return found.group(1)


def test_every_config_is_in_the_table():
    section = _section()
    for config in sorted(CONFIGS.glob("*.yaml")):
        assert f"`configs/{config.name}`" in section, config.name


def test_the_embedded_images_exist_and_are_pngs():
    section = _section()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", section)
    assert {"docs/cost.png", "docs/decision_boundary.png"} <= set(images)
    for image in images:
        assert (ROOT / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image


def test_the_main_job_command_is_shown():
    assert ".venv/bin/torchnn fit --config configs/flower.yaml" in _section()
