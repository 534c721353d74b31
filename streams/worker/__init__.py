"""The streaming worker: the pure incremental step (subject state, reclassify and diff, policies) and the Faust
shell around it (app, per-event handler, gauges, metrics, faust patches, ``clearance worker``).

Importing this package imports neither faust nor aiokafka; ``streams.worker.app`` and ``streams.worker.cli`` do."""
