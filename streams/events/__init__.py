"""The event contract in code: decoding record changes (``codec``, ``validation``), the contract's vocabulary and
decoded event (``model``), building determinations, candidates and dead letters (``builders``, ``ids``,
``timefmt``).

The contract itself is the JSON Schemas in the repository's ``schemas/`` (packaged copies: ``schemas/`` here,
loaded by :mod:`streams.events.schemas`, which the worker never imports so it never pays for jsonschema).
Import each name from the module that defines it; this package re-exports nothing.
"""
