#!/usr/bin/env bash
# Installs every Debian package the project and its tests need. Run as root on Debian 12;
# safe to repeat: only missing packages are installed (apt-get update only when needed).
# Helpers add their packages to the list below, one a line, with why.
set -euo pipefail

PACKAGES=(
  debootstrap        # the Asterisk sandbox: a Debian sid chroot (hotline sandbox up)
  util-linux         # setsid, mount/umount for the sandbox
  iproute2           # ss: which ports listen, when debugging the sandbox
  sip-tester         # sipp 3.6: callers and phones in integration tests
  tshark             # reading SIP/RTP captures when a call test fails
  espeak-ng          # Chinese prompts (text to speech)
  sox                # audio conversion to 8 kHz for Asterisk
  ffmpeg             # pydub's decoder
  postgresql         # tickets on PostgreSQL in tests
  chromium           # the agent desk in browser tests
  chromium-driver
  fonts-wqy-microhei # Chinese glyphs in the desk's screenshots
  docker-compose     # checks docker/compose.yaml without a Docker engine
  openssl            # a throwaway HTTPS certificate in the model download test
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root" >&2
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
export NEEDRESTART_MODE=a
apt-get update -qq
apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}"
