#!/usr/bin/env bash
# Rehearse the GPU capture end to end on this CPU machine, with the same steps and parts:
#
#   helpers/gpu/rehearse.sh [WORK]     (default WORK: /tmp/gpu-rehearsal-work)
#
# 1. a clone of this repository's HEAD (so the stored outputs here are never touched), with
#    helpers/gpu/ and helpers/llmdocs/environment.py as they are in the working tree;
# 2. `refresh.py prepare` there, for this machine's Python and glibc instead of 3.12/2.39;
# 3. a stand-in for the GPU image: a fresh venv with only torch, accelerate, safetensors,
#    matplotlib and numpy (payload.IMAGE_HAS) at this venv's versions, and transformers at the
#    image's 5.17.0, which the carried one (payload.SAME_AS_HERE) must shadow;
# 4. a stand-in for the device: a folder that, for each "call", receives the clone's working
#    tree again (as each device call sends it) and one more .gpu/call<k> folder, then runs
#    `refresh.py there --device cpu` without network (unshare -n, where it works);
# 5. `refresh.py compare` of the archive with the clone's stored outputs, `bring-back` into
#    the clone, then `llmdocs verify --device cpu` there with this venv.
# Each step's time goes to WORK/times.txt.
set -euo pipefail

here="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-/tmp/gpu-rehearsal-work}"
venv_python="$here/.venv/bin/python"
# The CPU is no GPU: a whole run here takes longer than the 540 s a device call allows
# (the deadline and continuation calls are tested in tests/test_gpu_refresh.py).
deadline="${REHEARSE_DEADLINE:-3600}"
rm -rf "$work"
mkdir -p "$work"
times="$work/times.txt"
: >"$times"
timed() {  # timed NAME COMMAND...: run, append "NAME seconds" to times.txt, keep its status
  local name="$1" start end rc=0
  shift
  start=$(date +%s.%N)
  "$@" || rc=$?
  end=$(date +%s.%N)
  printf '%s %.1f\n' "$name" "$(echo "$end - $start" | bc)" | tee -a "$times"
  return "$rc"
}

clone="$work/clone"
git clone --quiet "$here" "$clone"
cp -r "$here/helpers/gpu/." "$clone/helpers/gpu/"
cp "$here/helpers/llmdocs/environment.py" "$clone/helpers/llmdocs/environment.py"

pyver=$("$venv_python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
glibc=$("$venv_python" -c 'import os; print(os.confstr("CS_GNU_LIBC_VERSION").split()[1])')
timed prepare "$venv_python" "$clone/helpers/gpu/refresh.py" prepare --python "$pyver" \
  --glibc "$glibc"

image="$work/image"
pins=$("$venv_python" - <<'PY'
from importlib import metadata
for name in ("torch", "accelerate", "safetensors", "matplotlib", "numpy"):
    print(f"{name}=={metadata.version(name).split('+')[0]}")
print("transformers==5.17.0")  # the image's (KINDS.md): it gets the GGUF tokenizer's eos wrong
PY
)
make_image() {
  python3 -m venv "$image"
  # shellcheck disable=SC2086  # one pin per word
  "$image/bin/python" -m pip install --quiet $pins
}
timed image make_image

offline=()
if unshare -n true 2>/dev/null; then
  offline=(unshare -n)
else
  echo "rehearse.sh: unshare -n is not allowed here; the calls run with network" >&2
fi
device="$work/device"
mkdir -p "$device/.gpu"
send_tree() {  # what every device call does first: the working tree, copied over
  (cd "$clone" && git ls-files -z --cached --others --exclude-standard \
    | xargs -0 cp --parents -t "$device")
}
export LLMDOCS_GPU_WORK="$work/device-tmp"
parts=$(find "$clone/.gpu" -maxdepth 1 -name 'call*' | wc -l)
status=0
for k in $(seq 1 "$parts"); do
  send_tree
  # As on the device: a call holds only the carried path it names (earlier ones are gone).
  rm -rf "$device/.gpu"
  mkdir -p "$device/.gpu"
  cp -r "$clone/.gpu/call$k" "$device/.gpu/"
  out="$work/out$k"
  mkdir -p "$out"
  timed "call$k" "${offline[@]}" bash -c "cd '$device' && '$image/bin/python3' \
    helpers/gpu/refresh.py there --device cpu --out '$out' --deadline $deadline" || status=$?
  ls -l "$out" | tee -a "$times"
done
[ "$status" -eq 0 ] || { echo "rehearse.sh: a call failed (exit status $status)" >&2; exit 1; }

archive="$work/out$parts/gpu-outputs.tar.gz"
timed compare "$venv_python" "$clone/helpers/gpu/refresh.py" compare "$archive"
timed bring-back "$venv_python" "$clone/helpers/gpu/refresh.py" bring-back "$archive" \
  >"$work/bring-back.log"
(cd "$clone" && git status --short snippets/outputs | tee -a "$times")
verify() {
  cd "$clone" && PYTHONPATH="$clone/helpers" "$venv_python" -m llmdocs.cli verify --device cpu
}
timed verify verify
cat "$times"
