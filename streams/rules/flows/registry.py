"""Every county flow by name: the one list the CLI, the policies file and the offline settings read.

A new county flow is one module (its rule table and a :class:`~streams.rules.flows.base.FlowSpec`) plus one line
in :data:`FLOWS`. ``make_flow`` builds a flow by name and validates its options before any record is read;
``policy_fingerprint`` names a flow's exact policy so events can say which one decided.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from streams.errors import OptionsError
from streams.rules.flows import configurable, los_angeles, pilots, sacramento
from streams.rules.flows.base import Flow, FlowSpec, RuleFlow

FLOWS: Mapping[str, FlowSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            configurable.FLOW,
            los_angeles.FLOW,
            sacramento.FLOW,
            pilots.SAN_JOAQUIN_FLOW,
            pilots.CONTRA_COSTA_FLOW,
        )
    }
)
FLOW_NAMES: tuple[str, ...] = tuple(FLOWS)
DEFAULT_FLOW = configurable.NAME


def flow_spec(name: str) -> FlowSpec:
    """The registered flow ``name``; :class:`OptionsError` names the known ones otherwise."""
    spec = FLOWS.get(name)
    if spec is None:
        raise OptionsError(f"unknown flow {name!r} (known: {', '.join(FLOW_NAMES)})")
    return spec


def make_flow(name: str, county: str, *, options: Mapping[str, Any] | None = None) -> RuleFlow:
    """Build the flow ``name`` for ``county``.

    ``options``: the options document for a flow with a ``document`` (required), the named settings for a flow
    with ``settings`` (missing ones take their defaults), nothing for the others. Raises :class:`OptionsError`
    for an unknown name, invalid options, or a pilot flow asked for another county.
    """
    return flow_spec(name).build(county, options)


def policy_fingerprint(flow: Flow) -> str:
    """16 hex characters identifying name, county and normalised options; equal policies share it."""
    document = {"name": flow.name, "county": flow.county, "options": dict(flow.options)}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
