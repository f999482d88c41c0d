#!/usr/bin/env bash
# Puts a Node >= 22.19 and the pinned pnpm on PATH for the calling shell.
#
# The machines this project runs on ship an end-of-life system Node (20). When the Node on
# PATH is older than the project's floor, Node 24 LTS is installed from the npm registry's
# `node` package into .tools/ (project-local, git-ignored) and put first on PATH. pnpm is
# installed the same way, at the version pinned by `packageManager` in package.json.
# Source this file: `. scripts/toolchain.sh`.

LLM_EDGE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLM_EDGE_NODE_VERSION="24.21.0"
LLM_EDGE_TOOLS="$LLM_EDGE_ROOT/.tools"
LLM_EDGE_PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$LLM_EDGE_ROOT/package.json")"

llm_edge_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
}

export PATH="$LLM_EDGE_TOOLS/node_modules/.bin:$PATH"

if ! llm_edge_node_ok; then
  echo "llm-edge: Node on PATH is $(node -v 2>/dev/null || echo missing); installing Node $LLM_EDGE_NODE_VERSION from the npm registry into .tools/" >&2
  mkdir -p "$LLM_EDGE_TOOLS"
  npm install --prefix "$LLM_EDGE_TOOLS" --no-save --no-audit --no-fund --loglevel=error \
    "node@$LLM_EDGE_NODE_VERSION" "pnpm@$LLM_EDGE_PNPM_VERSION" >&2
  hash -r
  llm_edge_node_ok || { echo "llm-edge: could not install Node $LLM_EDGE_NODE_VERSION" >&2; return 1 2>/dev/null || exit 1; }
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$LLM_EDGE_PNPM_VERSION" ]; then
  echo "llm-edge: installing pnpm $LLM_EDGE_PNPM_VERSION into .tools/" >&2
  mkdir -p "$LLM_EDGE_TOOLS"
  npm install --prefix "$LLM_EDGE_TOOLS" --no-save --no-audit --no-fund --loglevel=error \
    "pnpm@$LLM_EDGE_PNPM_VERSION" "$( [ -x "$LLM_EDGE_TOOLS/node_modules/.bin/node" ] && echo "node@$LLM_EDGE_NODE_VERSION")" >&2
  hash -r
fi
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
