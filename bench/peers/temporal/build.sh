#!/usr/bin/env bash
# Builds Temporal's harness into bench/peers/temporal/bin/ (ignored by git); modules come through the Go proxy.
# Without Go it says so and succeeds: `npm run bench:peers` then leaves Temporal out of its default engines.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v go >/dev/null; then
  echo "bench/peers/temporal: go is not installed, Temporal's harness is not built" >&2
  exit 0
fi
# go.mod needs Go 1.26.8 (go.temporal.io/server's minimum): an older Go fetches that toolchain through the proxy.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
# -mod=readonly: go.mod and go.sum as committed, modules fetched, never a vendor directory.
# -s -w: no symbol table or DWARF, a smaller binary and a shorter link; profiles still symbolize from pclntab.
go build -mod=readonly -ldflags="-s -w" -o bin/temporal-peer .
