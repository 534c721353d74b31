"""Messages that name the problem and the fix: for stderr, while ``gogen.err`` keeps gogen's own text.

* a county no row names → the counties the files do name, with their row counts (exit 1);
* unknown keys in an options document → the key, where it is and the keys known there (BEAR's own UI keys are
  accepted: :data:`BEAR_EXTRA_KEYS`);
* an empty or header-only file → a warning (the run still succeeds with zero figures, as gogen's did for
  files of 128 bytes and more);
* the one closing line of a successful run.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from streams.doj import columns as C
from streams.doj.reader import iter_row_chunks
from streams.errors import ClearanceError, OptionsError
from streams.summary import SummaryCounts

# gogen's EligibilityOptions fields (G:data/eligibility_flow.go), by object.
KNOWN_OPTION_KEYS: Mapping[str, tuple[str, ...]] = {
    "": ("baselineEligibility", "additionalRelief"),
    "baselineEligibility": ("dismiss", "reduce"),
    "additionalRelief": (
        "subjectUnder21AtConviction",
        "subjectAgeThreshold",
        "yearsSinceConvictionThreshold",
        "yearsCrimeFreeThreshold",
        "subjectHasOnlyProp64Charges",
        "subjectIsDeceased",
    ),
}
# Keys BEAR writes into the options file besides gogen's (BEAR:app/utils/gogenUtils.js spreads its UI state,
# BEAR:app/constants/defaultAnalysisOptions.js): checkbox states whose effect BEAR already folded into the
# thresholds (a threshold of 0 is "off"). gogen ignores them; so does this tool.
BEAR_EXTRA_KEYS: Mapping[str, tuple[str, ...]] = {
    "additionalRelief": (
        "dismissOlderThanAgeThreshold",
        "dismissYearsSinceConvictionThreshold",
        "dismissYearsCrimeFreeThreshold",
    ),
}


class CountyNotFound(ClearanceError):
    """No row of the input files names the county (exit status 1)."""


def unknown_option_keys(document: Any) -> list[tuple[str, str]]:
    """(object, key) of every key of an options document that is neither gogen's nor BEAR's. Keys match
    case-insensitively, as Go's ``encoding/json`` matches them."""
    found: list[tuple[str, str]] = []
    if not isinstance(document, Mapping):
        return found

    def check(where: str, value: Any) -> None:
        if not isinstance(value, Mapping):
            return
        allowed = {key.casefold() for key in (*KNOWN_OPTION_KEYS[where], *BEAR_EXTRA_KEYS.get(where, ()))}
        for key in value:
            if str(key).casefold() not in allowed:
                found.append((where, str(key)))

    check("", document)
    for where in ("baselineEligibility", "additionalRelief"):
        for key, value in document.items():
            if str(key).casefold() == where.casefold():
                check(where, value)
    return found


def check_option_keys(path: str) -> None:
    """Raise :class:`OptionsError` naming the first unknown key of the options file at ``path`` (a file that is
    not JSON is left to gogen's own reader, which reports it)."""
    try:
        with open(path, "rb") as handle:
            document = json.loads(handle.read())
    except (OSError, ValueError):
        return
    unknown = unknown_option_keys(document)
    if not unknown:
        return
    where, key = unknown[0]
    known = KNOWN_OPTION_KEYS[where]
    place = f"in {where}" if where else "at the top level"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    bear = BEAR_EXTRA_KEYS.get(where)
    also = f" (BEAR's {', '.join(bear)} are accepted too)" if bear else ""
    more = f" ({len(unknown) - 1} more unknown key{'s' if len(unknown) > 2 else ''})" if len(unknown) > 1 else ""
    raise OptionsError(
        f"eligibility options {path}: unknown key {key!r} {place}{hint} Known keys there: "
        f"{', '.join(known)}{also}{more}"
    )


def county_rows(paths: Iterable[str]) -> Counter[str]:
    """Rows per STP_ORI_CNTY_NAME over the files (read again only when the county was not found)."""
    counts: Counter[str] = Counter()
    at = C.STP_ORI_CNTY_NAME
    for path in paths:
        for rows in iter_row_chunks(path):
            counts.update(row[at] for row in rows)
    return counts


def county_not_found(county: str, counts: Mapping[str, int]) -> str:
    listed = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    names = ", ".join(f"{name or '(blank)'} ({n:,} row{'s' if n != 1 else ''})" for name, n in listed[:12])
    more = f", and {len(listed) - 12} more" if len(listed) > 12 else ""
    folded = [name for name in counts if name.strip().casefold() == county.strip().casefold()]
    hint = f"; county names match exactly: did you mean --county {folded[0]!r}?" if folded else ""
    return f"no rows for county {county!r}; counties in this file: {names}{more}{hint}"


def find_county(county: str, paths: Sequence[str], counts: SummaryCounts) -> str | None:
    """``None`` when some row of the files names ``county``, else the message. Cheap on a normal run: the files
    are read again only when the run found nothing to evaluate in the county."""
    if counts.line_count == 0 or counts.subjects_with_prop64_in_county or counts.evaluated:
        return None
    rows = county_rows(paths)
    return None if rows.get(county) else county_not_found(county, rows)


def empty_file_warning(path: str) -> str:
    return (
        f"warning: {path} has no data rows (it is empty or holds only the header line); its result files hold "
        "only their headers and it adds nothing to the summary"
    )


def closing_line(counts: SummaryCounts, outputs: str) -> str:
    evaluated = counts.evaluated
    dismissal = evaluated.get("Eligible for Dismissal", 0)
    reduction = evaluated.get("Eligible for Reduction", 0)
    return (
        f"clearance classify: {counts.line_count:,} rows, {counts.subjects_evaluated:,} people and "
        f"{sum(evaluated.values()):,} convictions evaluated: {dismissal:,} eligible for dismissal, {reduction:,} for "
        f"reduction; outputs in {outputs}"
    )
