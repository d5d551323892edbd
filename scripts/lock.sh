#!/usr/bin/env bash
# Re-resolve the loose requirements (requirements/*.in) into exact pins (requirements/*.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
python3 -m venv "$workdir/venv"
pip="$workdir/venv/bin/pip"
"$pip" install --quiet --upgrade pip
"$pip" install --quiet -r requirements/base.in
{ echo "# Pinned by \`make lock\` from base.in; installs are reproducible from this file."; "$pip" freeze --all --exclude pip --exclude setuptools --exclude wheel; } > requirements/base.txt
grep -v '^-c' requirements/dev.in > "$workdir/dev.in"
"$pip" install --quiet -c <(grep -v '^#' requirements/base.txt) -r "$workdir/dev.in"
{ echo "# Pinned by \`make lock\` from dev.in; the runtime pins come from base.txt."; echo "-r base.txt";
  comm -13 <(grep -v '^#' requirements/base.txt | sort -f) <("$pip" freeze --all --exclude pip --exclude setuptools --exclude wheel | sort -f); } > requirements/dev.txt
