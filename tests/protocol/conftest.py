"""The fixtures of the protocol tests (`env`, the check that kairand
survives each test, the log tails in failure reports) live in
tests/conftest.py, shared with tests/interop, so that one pytest run over
both directories starts one environment. This file only makes the helpers
of this directory importable and re-exports the shared names (not the
fixtures, which pytest finds in the parent conftest by itself)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from kairan_conftest import (  # noqa: E402
    LOG_TAIL_LINES, REPO, SANITIZER_MARKERS, Env, ke, sanitizer_reports)

__all__ = ["LOG_TAIL_LINES", "REPO", "SANITIZER_MARKERS", "Env", "ke", "sanitizer_reports"]
