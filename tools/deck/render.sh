#!/usr/bin/env bash
# Renders the deck to one PNG per slide, to look at every slide before a change is merged:
#   tools/deck/render.sh [deck.pptx] [out-dir]
# LibreOffice (headless) converts the PPTX to PDF, pdftoppm (poppler) the PDF to PNGs. Both are Debian
# packages; the script installs them with apt-get when missing (needs root, as in CI containers).
# Default output: a temporary folder (printed), never the repository.
set -euo pipefail

deck="${1:-$(dirname "$0")/../../docs/lakehouse-architecture.pptx}"
out="${2:-$(mktemp -d -t lakehouse-deck-XXXXXX)}"

if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null; then
  echo "installing libreoffice-impress and poppler-utils (apt-get)" >&2
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    libreoffice-impress poppler-utils fonts-liberation >&2
fi

mkdir -p "$out"
# A private LibreOffice profile: no clash with a running instance, no state left in $HOME.
profile="$(mktemp -d -t lakehouse-lo-XXXXXX)"
trap 'rm -rf "$profile"' EXIT
soffice -env:UserInstallation="file://$profile" --headless --convert-to pdf --outdir "$out" "$deck" >&2
pdf="$out/$(basename "${deck%.*}").pdf"
pdftoppm -png -r 110 "$pdf" "$out/slide"
ls "$out"/slide-*.png
