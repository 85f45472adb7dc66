#!/usr/bin/env bash
# Installs what the reliability suite needs beyond npm: schemathesis (API fuzzing against /docs/openapi.json).
set -euo pipefail
python3 -m pip install --quiet --user 'schemathesis>=4,<5'
python3 -m schemathesis --version
