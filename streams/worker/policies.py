"""County policies for the streaming worker: which flow, options and compute-at date apply in each county.

File shape (more keys allowed and ignored)::

    {"counties": {"LOS ANGELES": {"flow": "los_angeles", "compute_at": "2019-11-11",
                                  "individual_age": 50, "years_conviction_free": 10},
                  "SACRAMENTO": {"flow": "configurable", "eligibility_options": {...BEAR options JSON...}}}}

``compute_at`` is optional: without it the policy is evaluated at the processing date (in the worker's time zone,
``CLEARANCE_TIMEZONE``), which the caller passes in — the rules never read the clock. ``data_quality`` (optional,
``"flag"`` or ``"hand_review"``) says what a data-quality flag does to an otherwise eligible conviction. A policy's
*version* is a hash of its normalised definition, so a worker started with a changed file can tell exactly which
counties' answers may have changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from streams.errors import OptionsError
from streams.gocompat.dates import parse_day
from streams.rules.flows.base import Flow
from streams.rules.flows.registry import FLOW_NAMES, FLOWS


@dataclass(frozen=True, slots=True)
class Policy:
    """One county's policy; ``flow`` is built once at load so bad options fail before any event is consumed."""

    county: str
    flow_name: str
    compute_at: date | None
    options: Mapping[str, Any]
    version: str
    flow: Flow
    # what a data-quality flag does to an otherwise eligible answer: "flag" (gogen's answer, flagged) or
    # "hand_review" (Hand Review, the flags as the reason)
    data_quality: str = "flag"

    @property
    def policy_id(self) -> str:
        return f"county:{self.county}"

    def compute_at_for(self, processing_date: date) -> datetime:
        day = self.compute_at or processing_date
        return datetime(day.year, day.month, day.day)


@dataclass(frozen=True, slots=True)
class Policies:
    """All county policies plus a fingerprint of the whole set (stored with each subject's emitted answers)."""

    by_county: Mapping[str, Policy]
    fingerprint: str
    # whether some flow sees subjects under the pilot code-section rule, for which the worker must build subjects
    # that keep their rows (Subject(keep_rows=True), so Subject.rebuilt works); otherwise they keep none
    keeps_records: bool = field(init=False)
    _uses_processing_date: bool = field(init=False)

    def __post_init__(self) -> None:
        policies = self.by_county.values()
        object.__setattr__(self, "keeps_records", any(p.flow.pilot_code_sections for p in policies))
        object.__setattr__(self, "_uses_processing_date", any(p.compute_at is None for p in policies))

    def get(self, county: str) -> Policy | None:
        return self.by_county.get(county)

    def uses_processing_date(self) -> bool:
        """Whether some county's compute-at is the processing date (asked for every event, hence precomputed)."""
        return self._uses_processing_date


DATA_QUALITY_OPTIONS = ("flag", "hand_review")


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def _parse_day(county: str, value: Any) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise OptionsError(f"county {county!r}: compute_at must be a YYYY-MM-DD string")
    day = parse_day(value)
    if day is None:
        raise OptionsError(
            f"county {county!r}: invalid compute_at date: Must be a valid date in the format YYYY-MM-DD"
        )
    return day.date()


def _int_option(county: str, spec: Mapping[str, Any], key: str, default: int) -> int:
    value = spec.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise OptionsError(f"county {county!r}: {key} must be an integer")
    return value


def build_policy(county: str, spec: Any) -> Policy:
    """One county's entry: ``flow`` names a registered flow; its options are the entry's key named by the flow's
    ``document`` (required) or its named ``settings`` (each optional, defaults from the flow)."""
    if not isinstance(spec, Mapping):
        raise OptionsError(f"county {county!r}: policy must be a JSON object")
    flow_name = spec.get("flow")
    if not isinstance(flow_name, str) or flow_name not in FLOWS:
        raise OptionsError(f"county {county!r}: flow must be one of {', '.join(FLOW_NAMES)}, not {flow_name!r}")
    flow_spec = FLOWS[flow_name]
    compute_at = _parse_day(county, spec.get("compute_at"))
    options: dict[str, Any]
    if flow_spec.document:
        if flow_spec.document not in spec:
            raise OptionsError(f"county {county!r}: the {flow_name} flow needs {flow_spec.document}")
        options = {flow_spec.document: spec[flow_spec.document]}
        flow = flow_spec.build(county, spec[flow_spec.document])
    else:
        options = {key: _int_option(county, spec, key, default) for key, default in flow_spec.settings.items()}
        flow = flow_spec.build(county, options or None)
    data_quality = spec.get("data_quality", DATA_QUALITY_OPTIONS[0])
    if data_quality not in DATA_QUALITY_OPTIONS:
        raise OptionsError(
            f"county {county!r}: data_quality must be one of {', '.join(DATA_QUALITY_OPTIONS)}, not {data_quality!r}"
        )
    normalised = {"county": county, "flow": flow_name, "compute_at": spec.get("compute_at"), **options}
    if data_quality != DATA_QUALITY_OPTIONS[0]:  # the default leaves existing policy versions as they were
        normalised["data_quality"] = data_quality
    return Policy(county, flow_name, compute_at, options, _digest(normalised), flow, data_quality)


def parse_policies(doc: Any) -> Policies:
    """Validate a policies document; every error names the county and the field."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("counties"), Mapping):
        raise OptionsError('policies must be a JSON object with a "counties" object')
    by_county: dict[str, Policy] = {}
    for county, spec in doc["counties"].items():
        if not county or county != county.strip():
            raise OptionsError(f"county name {county!r} must be non-empty without surrounding spaces")
        by_county[county] = build_policy(county, spec)
    fingerprint = _digest(sorted((c, p.version) for c, p in by_county.items()))
    return Policies(by_county, fingerprint)


def load_policies(path: str | Path) -> Policies:
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise OptionsError(f"policies file not found: {path}") from exc
    except json.JSONDecodeError as exc:
        raise OptionsError(f"policies file {path} is not valid JSON: {exc}") from exc
    return parse_policies(doc)


# -- safe policy changes --


ACCEPTED_SCHEMA = "accepted-policies.v1"


@dataclass(frozen=True, slots=True)
class AcceptedPolicies:
    """What a worker remembers of the last policy set it accepted: the set's fingerprint and each county's policy
    version (no people's data). Kept in the compacted accepted-policies topic, keyed by app id, so every replica and
    every restart (a new pod, a lost state volume) compares a new file with the same previous set."""

    fingerprint: str
    counties: Mapping[str, str]

    @classmethod
    def of(cls, policies: Policies) -> AcceptedPolicies:
        return cls(policies.fingerprint, {county: p.version for county, p in sorted(policies.by_county.items())})

    def to_json(self, accepted_at: str, withdrawals_allowed: bool) -> bytes:
        return json.dumps({"schema": ACCEPTED_SCHEMA, "fingerprint": self.fingerprint, "counties": dict(self.counties),
                           "accepted_at": accepted_at, "withdrawals_allowed": withdrawals_allowed},
                          sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> AcceptedPolicies | None:
        """The record, or None when it is not one this version understands (then only removed counties that hold
        candidates are known)."""
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(doc, Mapping) or doc.get("schema") != ACCEPTED_SCHEMA:
            return None
        counties, fingerprint = doc.get("counties"), doc.get("fingerprint")
        if not isinstance(counties, Mapping) or not isinstance(fingerprint, str):
            return None
        return cls(fingerprint, {str(c): str(v) for c, v in counties.items()})


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """What starting with a new policy set does to the current candidates (county → count, no people's data).

    ``removed``: counties the previous set (or the current candidates) had and the new one lacks: every candidate
    there is withdrawn. ``changed``: counties whose policy version differs: their candidates *may* be withdrawn —
    which ones is known only once every person is re-classified, so all of them count as at risk."""

    removed: Mapping[str, int]
    changed: Mapping[str, int]
    candidates: int

    @property
    def at_risk(self) -> int:
        return sum(self.removed.values()) + sum(self.changed.values())

    def needs_permission(self, threshold: float) -> bool:
        """A county removed, or more than ``threshold`` (a share) of the current candidates at risk."""
        return bool(self.removed) or (self.candidates > 0 and self.at_risk > threshold * self.candidates)

    def describe(self, limit: int = 8) -> str:
        """One line: the counts per county (the largest first, at most ``limit`` of each kind)."""
        parts = [f"{county!r} removed: {n} withdrawn" for county, n in _largest(self.removed, limit)]
        parts += [f"{county!r} changed: up to {n} withdrawn" for county, n in _largest(self.changed, limit)]
        hidden = max(0, len(self.removed) - limit) + max(0, len(self.changed) - limit)
        if hidden:
            parts.append(f"{hidden} more counties")
        return (f"up to {self.at_risk} of {self.candidates} current candidates at risk"
                + (f" ({'; '.join(parts)})" if parts else ""))


def _largest(counts: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def assess_change(
    previous: AcceptedPolicies | None, new: Policies, candidates_by_county: Mapping[str, int]
) -> PolicyChange:
    """Compare the new set with the previous accepted one and the current candidates per county (pure).

    Without a record (the first start, or a worker upgraded from a version that kept none) the counties holding
    current candidates stand in for the previous set: removing one of them is still caught, a changed county is not
    (its previous version is unknown)."""
    before = set(previous.counties) if previous is not None else set()
    before |= {county for county, n in candidates_by_county.items() if n > 0}
    removed = {county: candidates_by_county.get(county, 0) for county in sorted(before - set(new.by_county))}
    changed = {}
    if previous is not None:
        for county, version in sorted(previous.counties.items()):
            policy = new.get(county)
            if policy is not None and policy.version != version:
                changed[county] = candidates_by_county.get(county, 0)
    return PolicyChange(removed, changed, sum(candidates_by_county.values()))
