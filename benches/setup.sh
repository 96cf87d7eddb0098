#!/bin/sh
# Installs the external baselines of `cargo bench --bench load`:
# - nginx + njs from Debian (nginx-light, libnginx-mod-http-js), with apt-get;
# - workerd from npm, into target/bench-tools/workerd (never into the
#   repository's tracked files, never globally).
# Run as root (or with the rights apt-get needs). The benchmark skips a
# baseline whose tool is missing, saying so. CI never runs this.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ] \
  || [ ! -f /usr/lib/nginx/modules/ngx_http_js_module.so ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y nginx-light libnginx-mod-http-js
  # Debian starts the packaged nginx service; the bench runs its own.
  (service nginx stop || true) >/dev/null 2>&1
fi
echo "nginx: $(/usr/sbin/nginx -v 2>&1)"

dir="$root/target/bench-tools/workerd"
if [ ! -x "$dir/node_modules/.bin/workerd" ]; then
  mkdir -p "$dir"
  (cd "$dir" && npm init -y >/dev/null && npm install --no-fund --no-audit workerd >/dev/null)
fi
echo "workerd: $("$dir/node_modules/.bin/workerd" --version)"
