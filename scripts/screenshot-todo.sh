#!/usr/bin/env bash
# The browser check of the todo example: serves it with a few dozen todos, and in
# headless Chromium (scripts/todo-browser.py) checks that its pages render under their
# Content-Security-Policy, that its own form posts (a same-origin POST) and that a form
# on another site is refused; saves a screenshot of the list, and one after the post.
# Not part of `cargo test`: it needs Debian's chromium package, which it installs when
# missing, and python3.
#
#   bash scripts/screenshot-todo.sh [output.png]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/todo-screenshot.png}"
port=8765
base="http://127.0.0.1:$port"

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium package"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

cargo build -q -p example-todo
bin="$(realpath "${CARGO_TARGET_DIR:-target}")/debug/example-todo"
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
(cd "$dir" && BIND="127.0.0.1:$port" DATABASE_URL="sqlite://todo.db" "$bin") &
server=$!
for _ in $(seq 1 50); do
  curl -sf "$base/todos" >/dev/null && break
  sleep 0.2
done

# Forty-five todos (so the page widget has pages), a few of them done. curl sends
# neither Sec-Fetch-Site nor Origin: a client that is not a browser may post.
for i in $(seq 1 45); do
  curl -sf -o /dev/null -X POST --data-urlencode "title=Todo number $i" "$base/todos"
done
for id in 41 43 44; do
  curl -sf -o /dev/null -X POST "$base/todos/$id/complete"
done

mkdir -p "$(dirname "$out")"
python3 scripts/todo-browser.py "$base" "$out" "$dir/profile"
echo "screenshots: $out ${out%.png}-form.png"
