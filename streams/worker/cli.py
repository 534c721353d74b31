"""``clearance worker``: validate the policies, match the input topic's partition count, then run the Faust worker.

Validation happens before Faust starts so a typo in the policies file is a one-line error, not a crash loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from streams.errors import ClearanceError
from streams.settings import RECORD_CHANGES, Settings
from streams.worker.policies import load_policies

EVENT_LOOPS = ("uvloop", "aio")


async def _input_partitions(settings: Settings) -> int | None:
    from streams.kafka.topics import partition_count

    return await partition_count(settings, settings.topic(RECORD_CHANGES))


def run_cli(args: argparse.Namespace) -> int:
    try:
        policies = load_policies(args.policies)
    except ClearanceError as exc:
        print(f"clearance worker: {exc}", file=sys.stderr)
        return 2
    if args.metrics_port is not None:
        os.environ["CLEARANCE_METRICS_PORT"] = str(args.metrics_port)
    settings = Settings()
    if settings.event_loop not in EVENT_LOOPS:
        print(f"clearance worker: CLEARANCE_EVENT_LOOP must be one of {', '.join(EVENT_LOOPS)}, "
              f"not {settings.event_loop!r}", file=sys.stderr)
        return 2
    try:
        partitions = asyncio.run(asyncio.wait_for(_input_partitions(settings), 30))
    except Exception as exc:  # broker down or unreachable: say so plainly
        print(f"clearance worker: cannot reach Kafka at {settings.bootstrap}: {exc}", file=sys.stderr)
        return 2
    if partitions is None:
        print(
            f"clearance worker: topic {settings.topic(RECORD_CHANGES)} does not exist; run `clearance topics create`",
            file=sys.stderr,
        )
        return 2
    os.environ["CLEARANCE_PARTITIONS"] = str(partitions)
    os.environ["CLEARANCE_POLICIES"] = os.path.abspath(args.policies)

    import faust
    import mode.loop

    mode.loop.use(settings.event_loop)  # faust's own switch (`faust worker --loop uvloop` does the same)

    from streams.worker.app import app

    app.clearance.configure(policies)  # type: ignore[attr-defined]
    worker = faust.Worker(app, loglevel=args.loglevel, quiet=True)
    worker.execute_from_commandline()
    return 0
