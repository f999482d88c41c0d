#!/usr/bin/env bash
# The one entry point of a fresh clone: sets up the toolchain and dependencies, then runs
#   start  - the main job (see README)
#   test   - every check and every test, exactly what CI runs
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/toolchain.sh
echo "llm-edge: node $(node -v), pnpm $(pnpm --version)" >&2
pnpm install --frozen-lockfile --prefer-offline --reporter=append-only >&2
cmd="${1:-start}"
shift || true
case "$cmd" in
  start) exec pnpm run start "$@" ;;
  test) exec pnpm run test:all "$@" ;;
  *) exec pnpm run "$cmd" "$@" ;;
esac
