#!/usr/bin/env bash
# The GPU checks as one prepared run, for a session that is lent a CUDA machine.
#
#   bash scripts/gpu_check.sh [OUT_DIR]      # default: $OUT, else gpu-results
#   GPU_CHECK_DRY_RUN=1 PYTHON=.venv/bin/python bash scripts/gpu_check.sh /tmp/dry
#                                            # the same steps on the CPU, tiny sizes (a test
#                                            # runs this, so the script itself is checked)
#
# Run from the repository root on the GPU machine. It installs nothing: the package runs from
# the source tree with that machine's own python3 (CUDA torch, lightning, torchmetrics,
# scikit-learn, pytest and hypothesis are there; set PYTHON to use another interpreter). In
# order, each step under its own time limit so that one slow step cannot eat the others' time:
#   1. env.txt          nvidia-smi, torch / lightning versions, the device name
#   2. bench/           python -m torchnn.bench --device cuda (bench.md, bench.json, bench.log):
#                       CUDA-event timings, CUDA-graph rows, peak allocated memory per variant
#   3. pytest.log       the cuda-marked tests (pytest -m cuda)
#   4. fit.log, summary-*.json
#                       the default job on CUDA (explicit path, float32) and the autograd
#                       path under bf16-mixed
# At most 8 files land in OUT_DIR, none deeper than one folder (what the device tool returns).
# Exit status: 3 without a CUDA device (nothing else runs), else the number of failed steps.
set -uo pipefail
cd "$(dirname "$0")/.."

out=${1:-${OUT:-gpu-results}}
py=${PYTHON:-python3}
mkdir -p "$out/bench"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

dry=${GPU_CHECK_DRY_RUN:-}
if [ -n "$dry" ]; then
    device=cpu bench_args=(--sizes tiny --quick --no-compile) fit_args=(--trainer.max_epochs 2 --model.iterations_per_step 100)
else
    device=cuda bench_args=() fit_args=()
    if ! "$py" -c "import torch" 2>/dev/null; then
        echo "gpu_check: $py cannot import torch (set PYTHON to an interpreter that can)" >&2
        exit 3
    fi
    if ! "$py" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
        echo "gpu_check: no CUDA device is visible to $py (torch.cuda.is_available() is False)" >&2
        exit 3
    fi
fi

failed=0
step() {  # step NAME SECONDS LOG COMMAND...: run one check under its own limit
    local name=$1 limit=$2 log=$3
    shift 3
    echo "== $name (limit ${limit} s)"
    local start=$SECONDS
    timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
    local rc=$?
    echo "   exit $rc after $((SECONDS - start)) s; log: $log"
    tail -n 3 "$log" | sed 's/^/   | /'
    [ "$rc" -eq 0 ] || failed=$((failed + 1))
}

{
    nvidia-smi || true
    "$py" -c "import torch, lightning; print('torch', torch.__version__, 'cuda', torch.version.cuda)
print('lightning', lightning.__version__)
print(torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA device')"
} >"$out/env.txt" 2>&1

step "benchmark on $device" 240 "$out/bench/bench.log" \
    "$py" -m torchnn.bench --device "$device" --out "$out/bench" "${bench_args[@]}"
step "cuda-marked tests" 150 "$out/pytest.log" \
    "$py" -m pytest -m cuda -q -rfE -p no:cacheprovider --timeout 120
runs=$(mktemp -d)
export py out runs device
export FIT_ARGS="${fit_args[*]}"
fit() {  # fit TAG ARGS...: the default job with overrides; keeps its summary.json
    # shellcheck disable=SC2086  # FIT_ARGS: the dry run's words, split on purpose
    "$py" -m torchnn.cli fit --config configs/flower.yaml --trainer.accelerator "$device" $FIT_ARGS \
        --trainer.logger.init_args.save_dir "$runs" --trainer.logger.init_args.name "$1" \
        "${@:2}" && cp "$runs/$1/version_0/summary.json" "$out/summary-$1.json"
}
export -f fit
step "fit on $device (explicit, fp32; autograd, bf16-mixed)" 90 "$out/fit.log" bash -c \
    'fit explicit-fp32 && fit autograd-bf16 --model.backward autograd --trainer.precision bf16-mixed'
rm -rf "$runs"
echo "gpu_check: $failed step(s) failed; results in $out"
exit "$failed"
