#!/usr/bin/env bash
# Renders the todo example in headless Chromium and saves a screenshot: the browser
# check of the example application. Not part of `cargo test` (it needs Debian's
# chromium package, which it installs when missing).
#
#   bash scripts/screenshot-todo.sh [output.png]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/todo-screenshot.png}"
port=8765

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium package"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

cargo build -q -p example-todo
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
(cd "$dir" && BIND="127.0.0.1:$port" DATABASE_URL="sqlite://todo.db" \
  "$OLDPWD/target/debug/example-todo") &
server=$!
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$port/todos" >/dev/null && break
  sleep 0.2
done

# Forty-five todos (so the page widget has pages), a few of them done.
for i in $(seq 1 45); do
  curl -sf -o /dev/null -X POST --data-urlencode "title=Todo number $i" "http://127.0.0.1:$port/todos"
done
for id in 41 43 44; do
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/todos/$id/complete"
done

mkdir -p "$(dirname "$out")"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$dir/profile" --hide-scrollbars --window-size=900,1400 \
  --screenshot="$out" "http://127.0.0.1:$port/todos?page=1" 2>/dev/null
echo "screenshot: $out"
