#!/bin/sh
# Records tests/diff/expected/*.json by running each script in real workerd
# (compatibility date in tests/diff/COMPAT_DATE). Needs node and network
# access to npm once: workerd is installed into $WORKERD_DIR (default
# /tmp/workerd), never into the repository. Args: script names to record
# (default: all). CI never runs this; tests/differential.rs uses the goldens.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${WORKERD_DIR:-/tmp/workerd}
if [ -z "${WORKERD:-}" ]; then
  if [ ! -x "$dir/node_modules/.bin/workerd" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm init -y >/dev/null && npm install --no-fund --no-audit workerd >/dev/null)
  fi
  WORKERD="$dir/node_modules/.bin/workerd"
fi
export WORKERD
echo "workerd: $("$WORKERD" --version)"
exec node "$here/record.mjs" "$@"
