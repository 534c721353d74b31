"""The Kafka shell's one error type, in its own module so ``jars``, ``broker`` and ``topics`` share it without
importing each other."""

from __future__ import annotations

from streams.errors import ClearanceError


class KafkaSetupError(ClearanceError):
    """The local broker or the project's topics cannot be set up; the message says what to do about it.

    Raised for missing ``java``/``mvn``, a Maven failure, a port taken by another program, a broker that died
    or never answered (with the tail of its log), and topics the cluster refused to create.
    """


__all__ = ["KafkaSetupError"]
