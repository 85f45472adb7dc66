#!/usr/bin/env bash
# Installs what the reliability suite needs beyond npm: schemathesis (API fuzzing against /docs/openapi.json).
set -euo pipefail
python3 -m pip install --quiet --user 'schemathesis>=4,<5'
# pip --user puts the command in the user base's bin/, which may not be on PATH; the fuzz spec looks there too.
"$(python3 -m site --user-base)/bin/schemathesis" --version
