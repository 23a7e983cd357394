"""Interoperability tests: real IMAP clients against kairand.

The `env` fixture (one PostgreSQL, slapd and kairand for the whole run) and
the rest of the shared machinery come from tests/conftest.py, the same as
for tests/protocol, so `pytest tests/protocol tests/interop` starts one
environment. tests/protocol is put on sys.path for its helpers: the raw
client (imapclient) and the message generator of test_roundtrip."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "protocol"))
