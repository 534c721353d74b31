"""Kafka-facing commands for people and scripts: ``clearance replay``, ``export`` and ``report``."""
