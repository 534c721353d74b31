"""``clearance worker``: validate the policies and settings, match the input topic's partition count, then run the
Faust worker built from them.

Validation happens before Faust starts so a typo in the policies file is a one-line error, not a crash loop.
Everything reaches the app as arguments: nothing is handed over through environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys

from streams.errors import ClearanceError
from streams.settings import RECORD_CHANGES, Settings
from streams.worker.policies import load_policies

EVENT_LOOPS = ("uvloop", "aio")


async def _input_partitions(settings: Settings) -> int | None:
    from streams.kafka.topics import partition_count

    return await partition_count(settings, settings.topic(RECORD_CHANGES))


def _fail(message: str) -> int:
    print(f"clearance worker: {message}", file=sys.stderr)
    return 2


def run_cli(args: argparse.Namespace) -> int:
    try:
        policies = load_policies(args.policies)
        settings = Settings()
    except ClearanceError as exc:
        return _fail(str(exc))
    if args.metrics_port is not None:
        settings = dataclasses.replace(settings, metrics_port=args.metrics_port)
    if settings.event_loop not in EVENT_LOOPS:
        return _fail(f"CLEARANCE_EVENT_LOOP must be one of {', '.join(EVENT_LOOPS)}, not {settings.event_loop!r}")
    try:
        partitions = asyncio.run(asyncio.wait_for(_input_partitions(settings), 30))
    except Exception as exc:  # broker down or unreachable: say so plainly
        return _fail(f"cannot reach Kafka at {settings.bootstrap}: {exc}")
    if partitions is None:
        return _fail(f"topic {settings.topic(RECORD_CHANGES)} does not exist; run `clearance topics create`")
    settings = dataclasses.replace(settings, partitions=partitions, policies_path=args.policies)
    processes = getattr(args, "processes", 1)
    if processes < 1:
        return _fail(f"--processes must be at least 1, not {processes}")
    if processes > partitions:
        return _fail(f"--processes {processes} is more than the input's {partitions} partitions: the extra workers "
                     "would hold nothing")
    if processes > 1:
        from streams.worker.processes import supervise, worker_command

        return supervise(settings, processes, worker_command(args.policies, args.loglevel))

    import faust

    from streams.worker import faust_patches

    try:
        faust_patches.check_version()
    except ClearanceError as exc:
        return _fail(str(exc))
    faust_patches.use_event_loop(settings.event_loop)

    from streams.worker.app import create_app

    app = create_app(settings, policies)
    worker = faust.Worker(app, loglevel=args.loglevel, quiet=True)
    worker.execute_from_commandline()
    return 0
