#!/usr/bin/env bash
# One command for the whole test suite on a fresh Debian 12 machine, as root:
# installs what the tests need, starts every service they use, runs lint, types and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1

bash scripts/install-deps.sh
bash scripts/venv.sh
bash scripts/test-model.sh
.venv/bin/hotline sandbox up
# shellcheck source=/dev/null
source scripts/postgres-test.sh

.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest -p no:cacheprovider -ra "$@"
