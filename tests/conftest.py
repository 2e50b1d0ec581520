"""Fixtures shared across test folders. Kept minimal: the code lives in tests/fixtures_serve.py.

``served_model`` is session-scoped, so defining it here (not per test module) starts the
``transformers serve`` process once for tests/agents and tests/generate together.
"""

import importlib.util
import os
import sys
from pathlib import Path

# The suite runs offline, however it is launched: `make test` exports these, a bare `pytest` does
# not, and huggingface_hub reads them once, at import. Without them every test that asks for an
# unreachable hub id waits out the hub's retries (46 s each, measured) before its one-line error.
for _var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(_var, "1")

# Loaded by path: under --import-mode=importlib tests/ is not on sys.path.
_spec = importlib.util.spec_from_file_location("termcorpus_tests_fixtures_serve",
                                               Path(__file__).with_name("fixtures_serve.py"))
_serve = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _serve  # dataclasses look their module up there
_spec.loader.exec_module(_serve)

served_model = _serve.served_model
openai_stub = _serve.openai_stub

# Task fixtures (tests/fixtures/tasks/*) carry their own verifier tests (test_outputs.py and
# helpers): they run inside a task's sandbox, never in this suite.
collect_ignore_glob = ["fixtures/*"]
