"""Incremental classification: a person's record history as state, and the pure step from (state, change) to the
determinations and candidate changes to emit. No Kafka, no Faust, no clock: the shell passes time and offsets in."""
