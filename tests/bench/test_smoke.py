"""The benchmark runs end to end on a tiny size and writes well-formed JSON and markdown."""

import json

import numpy as np
import pytest
import torch

from torchnn.bench import main
from torchnn.bench.numpy_ref import logreg_loop_step, logreg_vectorised_step


def test_bench_quick_smoke(tmp_path, capsys):
    code = main(["--sizes", "tiny", "--activations", "tanh", "--quick", "--no-compile",
                 "--repeats", "1", "--out", str(tmp_path)])
    assert code == 0
    report = json.loads((tmp_path / "bench.json").read_text())
    assert set(report) >= {"meta", "results", "memory", "targets", "logreg"}
    (cell,) = report["results"]
    assert cell["size"] == "tiny" and cell["dims"] == [3, 5, 1] and cell["m"] == 32
    assert set(cell["variants"]) == {"explicit", "backprop", "autograd", "torch.nn", "numpy",
                                     "recompute", "autograd-recompute", "kernels", "bare-fn",
                                     "autograd-network"}
    for v in cell["variants"].values():
        assert v["median_s"] > 0 and len(v["times_s"]) == 1
        assert v["speedup"] > 0 and v["ceiling_fraction"] > 0
    assert cell["variants"]["torch.nn"]["speedup"] == 1.0
    assert cell["variants"]["explicit"]["saved_ratio"] == pytest.approx(1.0)
    assert [row["activation"] for row in report["memory"]] == [
        "sigmoid", "tanh", "relu", "leaky_relu"]
    assert report["logreg"]["same_result"] is True
    md = (tmp_path / "bench.md").read_text()
    assert "| size | g | torch.nn step |" in md and "| tiny [3-5-1] m=32 | tanh |" in md
    assert "| size | g | explicit vs kernels |" in md and "| tiny | tanh |" in md
    assert md in capsys.readouterr().out


def test_bench_cuda_skips_cleanly_without_gpu(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the CUDA run is exercised by the cuda-marked test")
    assert main(["--device", "cuda", "--sizes", "tiny", "--out", str(tmp_path)]) == 0
    assert not (tmp_path / "bench.json").exists()


@pytest.mark.cuda
def test_bench_cuda_quick(tmp_path):
    main(["--device", "cuda", "--sizes", "tiny", "--activations", "relu", "--quick",
          "--no-compile", "--repeats", "1", "--out", str(tmp_path)])
    (cell,) = json.loads((tmp_path / "bench.json").read_text())["results"]
    assert cell["variants"]["explicit"]["peak_cuda_bytes"] > 0
    assert "explicit (CUDA graph)" in cell["variants"]


def test_algorithm_1_2_equals_1_3():
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((7, 15)), (rng.random(15) > 0.5).astype(float)
    w, b = rng.standard_normal(7), 0.3
    w1, b1, j1 = logreg_loop_step(w, b, X, Y, 0.1)
    w2, b2, j2 = logreg_vectorised_step(w, b, X, Y, 0.1)
    np.testing.assert_allclose(w1, w2, atol=1e-12)
    assert b1 == pytest.approx(b2, abs=1e-12) and j1 == pytest.approx(j2, abs=1e-12)


@pytest.mark.parametrize("n", range(1, 9))
def test_round_orders_balance_which_variant_follows_which(n):
    from collections import Counter

    from torchnn.bench.measure import balanced_orders

    rows = balanced_orders(n)
    assert all(sorted(row) == list(range(n)) for row in rows)
    follows = Counter(pair for row in rows for pair in zip(row, row[1:]))
    assert set(follows) == {(a, b) for a in range(n) for b in range(n) if a != b}
    assert len(set(follows.values())) <= 1  # every ordered pair equally often


def test_interleaved_times_uses_the_balanced_orders():
    from torchnn.bench.measure import balanced_orders, interleaved_times

    seen = []
    steps = {name: (lambda name=name: seen.append(name)) for name in "abcd"}
    interleaved_times(steps, repeats=4, min_block_s=0.0, warmup=1)
    timed = seen[4:]  # after the one sizing call each
    rows = [["abcd"[k] for k in row] for row in balanced_orders(4)]
    assert timed == [name for row in rows for name in row]


def test_large_cell_targets_include_the_autograd_recompute_goals():
    from torchnn.bench.report import check_targets

    def row(median, saved=None):
        return {"median_s": median, "min_s": median, "ceiling_fraction": 0.9,
                "saved_ratio": saved}

    cell = {"size": "large", "activation": "tanh", "variants": {
        "torch.nn": row(1.0), "explicit": row(0.9, 1.0), "autograd": row(1.0, 0.998),
        "recompute": row(1.1, 0.50012), "autograd-recompute": row(1.25, 0.49988)}}
    targets = {t["target"]: t for t in check_targets([cell], [], {})}
    time = targets["large tanh: autograd recompute time vs autograd"]
    assert time["measured"] == pytest.approx(1.25) and time["met"] is False  # 1.25 > 1.20
    saved = targets["large tanh: autograd recompute saved / activations"]
    assert saved["measured"] == pytest.approx(0.49988) and saved["met"] is True
    assert targets["large tanh: recompute saved / activations"]["met"] is False


def test_medium_cell_targets_include_the_one_node_autograd_graph():
    from torchnn.bench.report import check_targets

    def row(speedup):  # torch.nn time / variant time
        return {"median_s": 1.0 / speedup, "min_s": 1.0 / speedup, "speedup": speedup}

    cell = {"size": "mnist", "activation": "relu", "variants": {
        "torch.nn": row(1.0), "explicit": row(1.3), "autograd": row(0.98),
        "autograd-network": row(1.02)}}
    targets = {t["target"]: t for t in check_targets([cell], [], {})}
    one_node = targets["mnist relu: autograd-network vs torch.nn"]
    assert one_node["measured"] == pytest.approx(1.02) and one_node["met"] is True
    assert targets["mnist relu: autograd vs torch.nn"]["met"] is False
