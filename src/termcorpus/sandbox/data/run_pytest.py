"""termcorpus verifier: run the real pytest the project provides, inside a task's sandbox.

The verifier environment (pytest and its few dependencies, copied from the project's own
environment) sits in ``site/`` next to this file. It goes at the *end* of ``sys.path``, so the
modules the task's image installed win over ours.
"""
import os
import sys

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "site"))
sys.dont_write_bytecode = True

import pytest  # noqa: E402

sys.exit(pytest.main())
