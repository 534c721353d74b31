"""Shared pytest set-up: one hypothesis profile, and an index of fixture modules.

Each ``fixtures_<area>.py`` next to this file is a plain pytest plugin (fixtures and hooks); list it here.

Hypothesis: every property test runs under the profile chosen here, never its own health checks or deadlines. A
fresh machine (no ``.hypothesis/`` yet) that is busy makes the first text draws slow, which hypothesis' default
``too_slow`` check and 200 ms deadline turn into failures that say nothing about the code; the project's
property tests compare two implementations, so only their answers matter. ``ci`` (chosen when ``CI`` is set) is
also derandomized and keeps no example database, so a CI run is reproducible from its log; ``dev`` keeps
hypothesis' random search and database. ``HYPOTHESIS_PROFILE`` picks one explicitly.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_RELAXED = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
}
settings.register_profile("dev", **_RELAXED)
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **_RELAXED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

pytest_plugins = ["fixtures_kafka", "fixtures_worker"]
