"""The rules engine: subject history, code-section matchers and eligibility flows. Pure: no I/O, no clock."""
