"""The public surface of streams.events is explicit and stays importable without jsonschema."""

from __future__ import annotations

import subprocess
import sys

import streams.events
from streams.events import codec


def test_all_lists_exactly_the_public_names() -> None:
    public = sorted(
        name
        for name in vars(streams.events)
        if not name.startswith("_")
        and name
        not in {
            "builders",
            "codec",
            "ids",
            "model",
            "timefmt",
            "validation",
            "schemas",
        }
    )
    assert sorted(streams.events.__all__) == public


def test_codec_reexports_what_the_worker_and_replay_use() -> None:
    for name in codec.__all__:
        assert getattr(codec, name) is getattr(streams.events, name)


def test_importing_the_codec_does_not_import_jsonschema() -> None:
    code = "import sys, streams.events.codec; print('jsonschema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
