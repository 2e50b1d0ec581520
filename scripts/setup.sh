#!/usr/bin/env bash
# One-time set-up of a fresh machine: system packages (bubblewrap), a virtualenv in .venv with the
# pinned Python stack, and the package itself in editable mode. Re-running is cheap: the install
# step is skipped while pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing bubblewrap (the default sandbox)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "setup: bubblewrap is missing; install it (e.g. 'sudo apt-get install -y bubblewrap')" >&2
    exit 2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.termcorpus-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing pinned packages into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  echo "$want" > "$stamp"
fi

# DVC's experiments need a git repository with at least one commit.
if [ ! -d .git ]; then
  git init -q && git add -A && git -c user.name=termcorpus -c user.email=termcorpus@localhost commit -qm "initial import"
fi
echo "setup: ready"
