#!/usr/bin/env bash
# The GPU check of mastbench in one go, on a machine with a CUDA device:
#
#   1. install the `gpu` extra (CuPy) with the test and bench extras into the current Python;
#   2. run the CuPy-marked tests (`pytest -m gpu`: the `xp` fixture's cupy parameter);
#   3. run the asv suite on the GPU backends only (CuPy, and PyTorch, which the suite puts on
#      CUDA when it sees a device), every timed call synchronized (benchmarks/common.py);
#   4. write a short summary (device, versions, test counts, asv timings) to the summary file.
#
# Usage:  benchmarks/gpu-check.sh [--full] [--no-install] [--dry-run] [--out DIR]
#
#   --full        asv's repeated timings (default: asv --quick, each benchmark timed once,
#                 which fits a short device loan)
#   --no-install  skip step 1 (the environment already has the extras)
#   --out DIR     where the logs and summary.txt go (default: gpu-check-<UTC time>/)
#   --dry-run     run everything that needs no GPU: argument and environment checks, the
#                 asv suite's validity check on the NumPy backend, the summary; the install,
#                 the GPU tests and the GPU benchmarks are printed, not run
#
# Exit status: 0 when every step passed, 1 when a step failed (the summary says which),
# 2 on a usage error, 3 when no CUDA device is visible (outside --dry-run).
set -u -o pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out=""
dry_run=0
quick="--quick"
install=1
python="${PYTHON:-python}"

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

while [ "$#" -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --full) quick="" ;;
        --no-install) install=0 ;;
        --out)
            [ "$#" -ge 2 ] || { echo "gpu-check: --out needs a directory" >&2; exit 2; }
            out="$2"
            shift
            ;;
        -h | --help) usage; exit 0 ;;
        *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

cd "$root" || exit 3
out="${out:-gpu-check-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out" || { echo "gpu-check: cannot create $out" >&2; exit 3; }
out="$(cd "$out" && pwd)"
summary="$out/summary.txt"
failed=()

say() { printf '%s\n' "$*" | tee -a "$summary"; }

# step NAME LOG COMMAND...: run (or, in a dry run, print) COMMAND with its output in LOG
step() {
    local name="$1" log="$2"
    shift 2
    if [ "$dry_run" -eq 1 ]; then
        say "[dry run] $name: $*"
        return 0
    fi
    echo "== $name: $*" >&2
    if "$@" >"$log" 2>&1; then
        say "$name: ok (log: $log)"
    else
        say "$name: FAILED with status $? (log: $log)"
        failed+=("$name")
    fi
}

: >"$summary"
say "mastbench GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
say "python: $("$python" -c 'import sys; print(sys.version.split()[0])')"

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    say "device: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -n 1)"
elif [ "$dry_run" -eq 1 ]; then
    say "device: none visible (dry run: the GPU steps are only printed)"
else
    say "device: none visible (nvidia-smi absent or failing): nothing to check here"
    exit 3
fi

# 1. install: CuPy for CUDA 12 (the gpu extra), pytest, hypothesis, asv, PyTorch, JAX
if [ "$install" -eq 1 ]; then
    step install "$out/install.log" "$python" -m pip install -e ".[gpu,test,bench]"
fi
if [ "$dry_run" -eq 0 ]; then
    say "cupy: $("$python" -c 'import cupy; print(cupy.__version__, "devices:", cupy.cuda.runtime.getDeviceCount())' 2>&1 | tail -n 1)"
    say "torch: $("$python" -c 'import torch; print(torch.__version__, "cuda:", torch.cuda.is_available())' 2>&1 | tail -n 1)"
fi

# 2. the CuPy-marked tests (the cupy parameter of the xp fixture carries the gpu mark)
step gpu-tests "$out/pytest-gpu.log" "$python" -m pytest -q -p no:cacheprovider -m gpu -rs
if [ -s "$out/pytest-gpu.log" ]; then
    say "gpu tests: $(tail -n 1 "$out/pytest-gpu.log")"
fi

# 3. the asv suite on the GPU backends, real timings, in this environment
export MASTBENCH_BENCH_BACKENDS="cupy,torch"
asv_exe="$(dirname "$(command -v "$python")")/asv"
[ -x "$asv_exe" ] || asv_exe="asv"
if [ "$dry_run" -eq 1 ]; then
    # what runs without a device: asv's validity check of the suite on the NumPy backend
    if MASTBENCH_BENCH_BACKENDS="numpy" "$asv_exe" check --python=same >"$out/asv-check.log" 2>&1
    then
        say "asv check (NumPy backend): ok"
    else
        say "asv check (NumPy backend): FAILED (log: $out/asv-check.log)"
        failed+=("asv-check")
    fi
fi
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
step asv-machine "$out/asv-machine.log" "$asv_exe" machine --yes
# shellcheck disable=SC2086  # $quick is empty or one flag
step asv-run "$out/asv-run.log" "$asv_exe" run --python=same $quick --show-stderr \
    --set-commit-hash "$commit"
if [ "$dry_run" -eq 0 ] && [ -n "$quick" ]; then
    # asv keeps no results of a --quick run: its printed tables are the record
    grep -E 'cupy|torch' "$out/asv-run.log" >"$out/asv-timings.txt" || true
elif [ "$dry_run" -eq 0 ]; then
    step asv-show "$out/asv-timings.txt" "$asv_exe" show "${commit:0:8}"
fi
if [ "$dry_run" -eq 0 ]; then
    say "asv: $(grep -c -E 'cupy|torch' "$out/asv-timings.txt") timings on the GPU backends in" \
        "$out/asv-timings.txt; $(grep -c -i 'failed' "$out/asv-run.log") failures in asv-run.log"
fi

if [ "${#failed[@]}" -eq 0 ]; then
    say "result: all steps passed"
    exit 0
fi
say "result: FAILED steps: ${failed[*]}"
exit 1
