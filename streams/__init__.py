"""clearance-streams: Prop 64 record-clearance eligibility, offline (gogen-compatible) and streaming.

The package is a functional core (``streams.doj`` parsing, ``streams.rules`` subject history and flows) inside an
imperative shell (CLI, Kafka, Faust agents, metrics). Nothing in the core does I/O or reads the clock.
"""

__version__ = "0.1.0"
# Bumped whenever a rule, matcher or flow changes an answer: it travels in every determination event and in the
# build-info metric so a DA office can tell which rules produced a candidate.
RULESET_VERSION = "gogen-0.2.13+la-0.2.5+pilots-2019-07-01"

__all__ = ["RULESET_VERSION", "__version__"]
