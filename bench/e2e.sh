#!/usr/bin/env bash
# The end-to-end benchmark, ours beside LiteLLM, from a fresh clone: builds the stripped release Lambda
# binary (and the arm64 one with cargo-lambda, unless --no-arm64), makes a throwaway virtualenv with
# LiteLLM under the cache folder, then runs benches/e2e.rs, which prints one markdown table (README,
# "Performance"). Loopback only; every loop is bounded. About 20 minutes on 2 cores from cold, 1 warm.
#
#   bench/e2e.sh [--no-arm64] [--no-litellm] [--invocations N] [--cold-starts N]
set -euo pipefail
cd "$(dirname "$0")/.."

arm64=1
litellm=1
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-arm64) arm64=0 ;;
    --no-litellm) litellm=0 ;;
    --invocations|--cold-starts) pass+=("$1" "$2"); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

cache="${UNIFIED_LLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/unified-llm-service}"
venv="$cache/bench-venv"
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$cache"

if [ "$litellm" = 1 ] || [ "$arm64" = 1 ]; then
  if [ ! -x "$venv/bin/python" ]; then
    echo "== virtualenv $venv" >&2
    python3 -m venv "$venv"
  fi
fi
if [ "$litellm" = 1 ] && ! "$venv/bin/python" -c "import litellm" 2>/dev/null; then
  echo "== pip install litellm" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "litellm${LITELLM_VERSION:+==$LITELLM_VERSION}"
fi

echo "== cargo build --release --bin unified-llm-service" >&2
cargo build --release --bin unified-llm-service >&2
args=(--lambda-bin "$target/release/unified-llm-service" "${pass[@]}")

if [ "$arm64" = 1 ]; then
  if [ ! -x "$venv/bin/cargo-lambda" ]; then
    echo "== pip install cargo-lambda ziglang" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check cargo-lambda ziglang
  fi
  rustup target add aarch64-unknown-linux-gnu >&2
  echo "== cargo lambda build --release --arm64" >&2
  if PATH="$venv/bin:$PATH" cargo lambda build --release --arm64 --bin unified-llm-service >&2; then
    args+=(--arm64-bin "$target/lambda/unified-llm-service/bootstrap")
  else
    echo "== the arm64 build failed here; the table has no arm64 row" >&2
  fi
fi
[ "$litellm" = 1 ] && args+=(--python "$venv/bin/python")

echo "== cargo bench --bench e2e" >&2
cargo bench --bench e2e -- "${args[@]}"
