"""``clearance worker``: validate the policies and settings, check the topics and the policy change
(:mod:`streams.worker.preflight`), match the input topic's partition count, then run the Faust worker built from
them.

Validation happens before Faust starts so a typo in the policies file, a missing or misconfigured topic, or a
policies file that would withdraw candidates by accident is a one-line error (exit 2), not a crash loop or lost
answers. Everything reaches the app as arguments: nothing is handed over through environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys

from streams.errors import ClearanceError
from streams.settings import Settings
from streams.worker.policies import load_policies

EVENT_LOOPS = ("uvloop", "aio")
PREFLIGHT_TIMEOUT_S = 180  # reading the candidates topic after a policy change included


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
    if getattr(args, "allow_withdrawals", False):
        settings = dataclasses.replace(settings, allow_withdrawals=True)
    settings = dataclasses.replace(settings, policies_path=args.policies)
    if settings.event_loop not in EVENT_LOOPS:
        return _fail(f"CLEARANCE_EVENT_LOOP must be one of {', '.join(EVENT_LOOPS)}, not {settings.event_loop!r}")
    from streams.worker.preflight import PreflightError, preflight

    try:
        partitions = asyncio.run(asyncio.wait_for(preflight(settings, policies), PREFLIGHT_TIMEOUT_S))
    except PreflightError as exc:
        return _fail(str(exc))
    except Exception as exc:  # broker down or unreachable: say so plainly
        return _fail(f"cannot reach Kafka at {settings.bootstrap}: {type(exc).__name__} {exc}".rstrip())
    settings = dataclasses.replace(settings, partitions=partitions)
    processes = getattr(args, "processes", 1)
    if processes < 1:
        return _fail(f"--processes must be at least 1, not {processes}")
    if processes > partitions:
        return _fail(f"--processes {processes} is more than the input's {partitions} partitions: the extra workers "
                     "would hold nothing")
    if processes > 1:  # each child checks again; the policy change this one accepted is recorded by then
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
    service = app.clearance  # type: ignore[attr-defined]

    class Worker(faust.Worker):
        def stop_and_shutdown(self) -> None:
            """faust enters this once the worker stops for any reason; a stop that hangs must not keep an idle
            process up (see WorkerService.arm_stop_deadline)."""
            service.arm_stop_deadline()
            super().stop_and_shutdown()

    worker = Worker(app, loglevel=args.loglevel, quiet=True)
    worker.execute_from_commandline()
    return 0
