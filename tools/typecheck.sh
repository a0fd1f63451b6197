#!/usr/bin/env bash
# The type check of `npm test` (strict TypeScript is the schema check of every resource's inputs).
# tsc's build mode (`-b`) skips the check when none of its inputs (the project's files and tsconfig.json)
# is newer than the build info: about 1 s instead of 15-20 CPU-s when only Python, YAML, Markdown or
# nothing changed. Two things it does not do by itself:
# - it does not look at node_modules, so when npm has changed the installed packages since the last check
#   (npm rewrites node_modules/.package-lock.json on every install), or there is no build info yet, the
#   whole program is checked with `tsc -p`;
# - tsc leaves the build info's time alone when its content does not change (a file saved again
#   unchanged), which would make every later run check again: after a check that passed, the build info
#   takes the time the check started, so a file saved while it ran is still newer and is checked next time.
set -euo pipefail
cd "$(dirname "$0")/.."
info=node_modules/.cache/lakehouse/tsconfig.tsbuildinfo
installed=node_modules/.package-lock.json
started=$(mktemp)
trap 'rm -f "$started"' EXIT
if [[ ! -f "$info" || ! -f "$installed" || "$installed" -nt "$info" ]]; then
  node_modules/.bin/tsc -p tsconfig.json
else
  node_modules/.bin/tsc -b tsconfig.json
fi
touch -r "$started" "$info"
