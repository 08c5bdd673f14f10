"""scripts/hidden_sizes.py: the course's hidden-layer-size table and its decision boundaries,
run small (few iterations, two seeds); docs/course.md shows the full run."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("hidden_sizes", ROOT / "scripts" /
                                                  "hidden_sizes.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in text.splitlines()
            if re.match(r"\| \d+ \|", ln)]


def test_the_table_and_the_picture(tmp_path, capsys):
    script = _script()
    assert script.main(["--seeds", "2", "--iterations", "30", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    written = (tmp_path / "hidden_sizes.md").read_text(encoding="utf-8")
    for text in (printed, written):
        rows = _rows(text)
        assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5, 20, 50]
        for r in rows:
            assert float(r[1]) == script.COURSE[int(r[0])]  # the course's column beside ours
            lo, hi = map(float, r[4].split("-"))
            values = [float(r[2]), float(r[3]), lo, hi]
            assert all(0 <= v <= 100 for v in values) and lo <= float(r[3]) <= hi, r
    assert "21 networks x 30 iterations" in written  # 7 sizes x (the course's draw + 2 seeds)
    assert (tmp_path / "hidden_sizes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_course_draw_is_the_course_initialisation():
    """numpy seeded with 2, then W1 and W2 drawn in turn (the course's initialize_parameters)."""
    import numpy as np
    import torch

    net = _script().course_draw(4, torch.float64)
    rng = np.random.RandomState(2)
    np.testing.assert_array_equal(net.layers[0].weight.detach().numpy(), rng.randn(4, 2) * 0.01)
    np.testing.assert_array_equal(net.layers[1].weight.detach().numpy(), rng.randn(1, 4) * 0.01)
    assert not net.layers[0].bias.any() and not net.layers[1].bias.any()
