"""The event contract's modules stay importable without jsonschema (the worker never pays for it)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_codec_does_not_import_jsonschema() -> None:
    code = "import sys, streams.events.codec, streams.events.builders; print('jsonschema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
