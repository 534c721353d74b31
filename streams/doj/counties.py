"""California's 58 counties as the DOJ file spells them (STP_ORI_CNTY_NAME), and a normaliser for near misses.

A conviction in a county without a policy gets no determination; the worker counts such convictions by county so
that a typo in a feed or a policies file ("Los Angeles", "SACRAMENTO ") is visible. The label must be a closed set
(a free-form field could carry anything into a metric), hence :func:`county_bucket`.
"""

from __future__ import annotations

import re

CALIFORNIA_COUNTIES: frozenset[str] = frozenset((
    "ALAMEDA",
    "ALPINE",
    "AMADOR",
    "BUTTE",
    "CALAVERAS",
    "COLUSA",
    "CONTRA COSTA",
    "DEL NORTE",
    "EL DORADO",
    "FRESNO",
    "GLENN",
    "HUMBOLDT",
    "IMPERIAL",
    "INYO",
    "KERN",
    "KINGS",
    "LAKE",
    "LASSEN",
    "LOS ANGELES",
    "MADERA",
    "MARIN",
    "MARIPOSA",
    "MENDOCINO",
    "MERCED",
    "MODOC",
    "MONO",
    "MONTEREY",
    "NAPA",
    "NEVADA",
    "ORANGE",
    "PLACER",
    "PLUMAS",
    "RIVERSIDE",
    "SACRAMENTO",
    "SAN BENITO",
    "SAN BERNARDINO",
    "SAN DIEGO",
    "SAN FRANCISCO",
    "SAN JOAQUIN",
    "SAN LUIS OBISPO",
    "SAN MATEO",
    "SANTA BARBARA",
    "SANTA CLARA",
    "SANTA CRUZ",
    "SHASTA",
    "SIERRA",
    "SISKIYOU",
    "SOLANO",
    "SONOMA",
    "STANISLAUS",
    "SUTTER",
    "TEHAMA",
    "TRINITY",
    "TULARE",
    "TUOLUMNE",
    "VENTURA",
    "YOLO",
    "YUBA",
))
UNRECOGNISED = "unrecognised"
_SPACES = re.compile(r"\s+")


def normalise_county(name: str) -> str:
    """Upper case, surrounding white space removed, inner runs of white space as one space."""
    return _SPACES.sub(" ", name.strip()).upper()


def county_bucket(name: str) -> str:
    """The California county ``name`` stands for after normalising, or :data:`UNRECOGNISED`."""
    normalised = normalise_county(name)
    return normalised if normalised in CALIFORNIA_COUNTIES else UNRECOGNISED
