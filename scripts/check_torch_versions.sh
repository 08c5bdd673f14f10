#!/usr/bin/env bash
# The test suite against other torch releases: what backs the range pyproject.toml declares.
#
#   bash scripts/check_torch_versions.sh 2.6.0 2.8.0 2.11.0
#   WORK=/tmp/tv bash scripts/check_torch_versions.sh 2.11.0     # where venvs, copies, logs go
#
# Each version gets a venv with that torch from PyPI (on Linux a CUDA build, ~3 GB with its
# nvidia packages; it runs on the CPU) and every other package at the version .venv has, and
# runs the suite from a copy of the working tree, so nothing is written into the repository.
# Prints one summary line a version (the pytest log beside it). Not part of CI: the downloads
# are too big for it.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 TORCH_VERSION..." >&2; exit 2; }
[ -x .venv/bin/pip ] || { echo "$0: needs the dev venv .venv (README quickstart)" >&2; exit 2; }
work=${WORK:-/tmp/torchnn-versions}
mkdir -p "$work"
# NOTE: this machine's pip config caps torch (constraints); another release needs it off
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/pip freeze --exclude-editable | grep -viE '^(torch|torchnn)( |=|@)' >"$work/others.txt"

status=0
for version in "$@"; do
    venv="$work/venv-$version" src="$work/src-$version" log="$work/pytest-$version.log"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" &&
            "$venv/bin/pip" install -q "torch==$version" -r "$work/others.txt" ||
            { echo "torch $version: install failed"; status=1; continue; }
    fi
    rm -rf "$src" && mkdir -p "$src"
    git ls-files -co --exclude-standard | tar -cf - -T - | tar -xf - -C "$src"
    # the tests that run `.venv/bin/python` or `.venv/bin/torchnn` find this version's
    ln -sfn "$venv" "$src/.venv"
    printf '#!%s\nimport sys\nfrom torchnn.cli import main\nsys.exit(main())\n' \
        "$venv/bin/python" >"$venv/bin/torchnn"
    chmod +x "$venv/bin/torchnn"
    (cd "$src" && PYTHONPATH="$src" "$venv/bin/python" -m pytest -q -p no:cacheprovider -rfE \
        >"$log" 2>&1)
    rc=$?
    echo "torch $version: $(tail -n 1 "$log") (exit $rc; log: $log)"
    [ "$rc" -eq 0 ] || status=1
done
exit "$status"
