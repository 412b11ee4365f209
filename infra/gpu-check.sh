#!/bin/sh
# Checks a GPU machine end to end (docs/gpu.md): `esweep doctor --backend gpu` (every architecture's
# step timed on the GPU), then a one-epoch LeNet-5 and a 50-step VGG-16 trial on CIFAR-10, and prints
# seconds per step and test accuracy for each.
#
#   infra/gpu-check.sh REGISTRY/esweep-worker:TAG   the built worker image, through `docker run --gpus all`
#   infra/gpu-check.sh                              this checkout, with @tensorflow/tfjs-node-gpu installed
#
# CIFAR-10 (binary version, cifar-10-batches-bin/) must be under $ESWEEP_DATA_DIR (default ./data).
# Exit code 0 when everything ran on the GPU, 1 otherwise.
set -eu

IMAGE="${1:-}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="$(cd "${ESWEEP_DATA_DIR:-$ROOT/data}" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# The image runs as uid 1000: it must be able to read the trial files.
chmod 755 "$WORK"

if [ -n "$IMAGE" ]; then
  TRIALS=/work
  # As the cluster runs it: read-only root filesystem, a writable /tmp, the data read-only.
  esweep() {
    docker run --rm --gpus all --read-only --tmpfs /tmp \
      -v "$DATA:/data:ro" -v "$WORK:/work:ro" "$IMAGE" "$@"
  }
  node_js() { docker run -i --rm --entrypoint node "$IMAGE" "$@"; }
else
  TRIALS="$WORK"
  esweep() { node "$ROOT/bin/esweep.js" "$@"; }
  node_js() { node "$@"; }
  export ESWEEP_DATA_DIR="$DATA"
fi

echo "== esweep doctor --backend gpu"
if ! esweep doctor --backend gpu; then
  echo "gpu-check: the GPU backend does not work here (see the reason above)" >&2
  exit 1
fi

# One trial: `esweep train --json` on the GPU, summarised as seconds per step and test accuracy.
trial() {
  label="$1"
  file="$2"
  printf '%s\n' "$3" > "$WORK/$file"
  chmod 644 "$WORK/$file"
  echo "== $label"
  esweep train --trial "$TRIALS/$file" --backend gpu --json > "$WORK/$file.out"
  node_js -e '
    let text = "";
    process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
      const r = JSON.parse(text);
      const perStep = r.seconds / r.steps;
      console.log(`${process.argv[1]}: ${r.steps} steps in ${r.seconds.toFixed(1)} s = ` +
        `${perStep.toFixed(4)} s/step (with pruning and evaluation), test accuracy ` +
        `${(100 * r.accuracy).toFixed(2)}% on ${r.backend}`);
    });' "$label" < "$WORK/$file.out"
}

trial "LeNet-5 on CIFAR-10, 1 epoch" lenet5.json \
  '{"arch":"lenet5","dataset":"cifar10","pruner":"dense","type":"direct","sparsity":0,"seed":0,"budget":{"epochs":1}}'
trial "VGG-16 on CIFAR-10, 50 steps" vgg16.json \
  '{"arch":"vgg16","dataset":"cifar10","pruner":"dense","type":"direct","sparsity":0,"seed":0,"budget":{"iterations":50}}'
