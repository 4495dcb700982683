#!/usr/bin/env bash
# One command to run the service with its embedded defaults on a fresh Debian 12 machine,
# as root: installs dependencies, starts the sandbox Asterisk, builds the prompts, runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/venv.sh
.venv/bin/hotline sandbox up
exec .venv/bin/hotline run "$@"
