"""``clearance explain SUBJECT_ID --live [--worker URL …]``: one person's answers from the worker that holds them.

Each worker serves only the subjects of the input partitions assigned to it (``streams/worker/explain_api.py``), so
the client asks the workers it is given (``--worker``, else ``CLEARANCE_EXPLAIN_WORKERS``) one after another until
one answers 200; a worker that does not hold the subject answers 404 or 421 and the next is asked. The bearer token
is the workers' (``CLEARANCE_EXPLAIN_TOKEN`` or ``_TOKEN_FILE``).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from streams.errors import ClearanceError
from streams.explain import dump
from streams.settings import Settings

TIMEOUT = 10.0


class LiveExplainError(ClearanceError):
    """No worker answered, or none holds the subject; the message is the one line the CLI prints."""


def fetch(subject_id: str, workers: Sequence[str], token: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The explain document from the first worker that holds the subject."""
    if not workers:
        raise LiveExplainError("no worker to ask: pass --worker http://HOST:PORT (repeatable) or set "
                               "CLEARANCE_EXPLAIN_WORKERS")
    if not token:
        raise LiveExplainError("no bearer token: set CLEARANCE_EXPLAIN_TOKEN or CLEARANCE_EXPLAIN_TOKEN_FILE")
    answered = 0
    unreachable: list[str] = []
    for base in workers:
        url = f"{base.rstrip('/')}/subjects/{quote(subject_id, safe='')}"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                document: dict[str, Any] = json.loads(response.read())
                return document
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                raise LiveExplainError(f"worker {base} refused the token (401): use the workers' "
                                       "CLEARANCE_EXPLAIN_TOKEN") from None
            if exc.code in (404, 421):
                answered += 1
                continue
            unreachable.append(f"{base} ({exc.code})")
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            unreachable.append(f"{base} ({reason})")
    if answered and not unreachable:
        raise LiveExplainError(f"no worker holds subject {subject_id!r} ({answered} asked): not seen by the live "
                               "system, or its partition's worker is not in the list")
    if answered:
        raise LiveExplainError(f"subject {subject_id!r} not found on the {answered} workers that answered; "
                               f"no answer from {', '.join(unreachable)}")
    raise LiveExplainError(f"no worker answered: {', '.join(unreachable)}")


def run_cli(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
        workers = list(args.worker or settings.explain_workers)
        document = fetch(args.subject_id, workers, settings.explain_token())
    except ClearanceError as exc:
        print(f"clearance explain: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(dump(document, args.json))
    return 0
