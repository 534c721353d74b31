"""One exception root for the project, so callers (CLI, agents) can catch project errors without catching bugs.

    ClearanceError
    ├── InputError            bad input data: the user must fix a file or an event
    │   └── DojParseError     a DOJ research file does not have the 95-column shape (gogen's "PARSING")
    ├── OptionsError          an eligibility-options / policies document is invalid (gogen's option messages)
    ├── EventError            a record-change event cannot be accepted; ``kind`` names the dead-letter reason
    └── KafkaSetupError       the local broker cannot be fetched, started or stopped (streams.kafka.errors)

Library code raises these; only ``streams.cli`` turns them into exit codes and error files.
"""

from __future__ import annotations


class ClearanceError(Exception):
    """Root of every error this project raises on purpose."""


class InputError(ClearanceError):
    """Input data is unusable; the message says what to fix."""


class DojParseError(InputError):
    """The DOJ file is malformed. ``line`` counts data lines (header excluded) from 1, like gogen's message."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class OptionsError(ClearanceError):
    """An eligibility-options or policies document failed validation (message text matches gogen where it has one)."""


class EventError(ClearanceError):
    """An event is rejected; ``kind`` is the dead-letter error kind (e.g. ``not_json``, ``schema``, ``oversized``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
