#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (moto's server in a virtualenv,
# the cdk's npm packages), runs cargo's tests, clippy and rustfmt, then the infrastructure tests.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${UNIFIED_LLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/unified-llm-service}"
mkdir -p "$cache"

# moto's server: the real DynamoDB and Secrets Manager APIs on loopback for the integration tests.
venv="$cache/venv"
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "== installing moto[server] into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]"
fi
export MOTO_SERVER="$venv/bin/moto_server"

# jsonata-js, the reference JSONata implementation, for the template fidelity test.
echo "== npm ci in tools/jsonata-reference"
(cd tools/jsonata-reference && npm ci --no-audit --no-fund --silent)

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings
echo "== cargo test"
cargo test --all-targets
cargo test --doc

echo "== cdk (npm ci, jest)"
(cd cdk && npm ci --no-audit --no-fund && UNIFIED_LLM_BIN="${CARGO_TARGET_DIR:-../target}/debug/unified-llm" npm test)
