"""Eligibility flows by name: the policy a county runs, built once and validated before any record is read.

``make_flow`` is the one entry point for callers; every flow is a :class:`~streams.rules.flows.base.RuleFlow`
whose ``decide`` is pure. ``policy_fingerprint`` names a flow's exact policy so events can say which one
decided.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from streams.errors import OptionsError
from streams.rules.flows.base import Flow, Rule, RuleFlow
from streams.rules.flows.configurable import (
    EligibilityOptions,
    configurable_flow,
    parse_options,
    parse_options_json,
)
from streams.rules.flows.los_angeles import los_angeles_flow
from streams.rules.flows.pilots import contra_costa_flow, san_joaquin_flow
from streams.rules.flows.sacramento import sacramento_flow
from streams.rules.flows.whatif import dismiss_all_prop64, dismiss_all_prop64_and_related

__all__ = [
    "FLOW_NAMES",
    "EligibilityOptions",
    "Flow",
    "Rule",
    "RuleFlow",
    "dismiss_all_prop64",
    "dismiss_all_prop64_and_related",
    "make_flow",
    "parse_options",
    "parse_options_json",
    "policy_fingerprint",
]

FLOW_NAMES = ("configurable", "los_angeles", "sacramento", "san_joaquin", "contra_costa")


def make_flow(
    name: str,
    county: str,
    *,
    options: Mapping[str, Any] | None = None,
    individual_age: int = 50,
    years_conviction_free: int = 10,
) -> RuleFlow:
    """Build the flow ``name`` for ``county``.

    ``options``: the BEAR/gogen options document for ``configurable`` (required); for ``los_angeles`` an
    optional mapping with ``individual_age``/``years_conviction_free`` overriding the keyword values; the
    pilots take none. Raises :class:`OptionsError` for an unknown name, invalid options, or a pilot flow asked
    for another county.
    """
    if name == "configurable":
        if options is None:
            raise OptionsError("the configurable flow needs eligibility options")
        return configurable_flow(county, options)
    if name == "los_angeles":
        return los_angeles_flow(
            county,
            individual_age=individual_age,
            years_conviction_free=years_conviction_free,
            options=options,
        )
    if name == "sacramento":
        return sacramento_flow(county, options=options)
    if name == "san_joaquin":
        return san_joaquin_flow(county, options=options)
    if name == "contra_costa":
        return contra_costa_flow(county, options=options)
    raise OptionsError(f"unknown flow {name!r} (known: {', '.join(FLOW_NAMES)})")


def policy_fingerprint(flow: Flow) -> str:
    """16 hex characters identifying name, county and normalised options; equal policies share it."""
    document = {"name": flow.name, "county": flow.county, "options": dict(flow.options)}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
