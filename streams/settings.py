"""The settings of every command and the worker, all from the environment so the same image runs on a laptop, in
compose and in Kubernetes.

| variable | default | meaning |
|---|---|---|
| CLEARANCE_KAFKA_BOOTSTRAP | 127.0.0.1:9092 | bootstrap servers; an existing cluster skips the local broker |
| CLEARANCE_KAFKA_SECURITY_PROTOCOL | PLAINTEXT | PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL |
| CLEARANCE_KAFKA_SASL_MECHANISM | PLAIN | with SASL_*: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 |
| CLEARANCE_KAFKA_SASL_USERNAME / _PASSWORD | – | SASL credentials |
| CLEARANCE_KAFKA_SSL_CAFILE | – | CA bundle for SSL/SASL_SSL |
| CLEARANCE_DATA_DIR | ./var | broker data and logs, worker state (RocksDB) |
| CLEARANCE_TOPIC_PREFIX | "" | prepended to every topic name (one prefix per environment or test run) |
| CLEARANCE_APP_ID | clearance-streams | consumer group / Faust app id (prefixed like the topics) |
| CLEARANCE_STORE | rocksdb:// | Faust table store; memory:// for tests |
| CLEARANCE_METRICS_PORT | 9108 | port of the worker's /metrics |
| CLEARANCE_METRICS_HOST | 127.0.0.1 | address /metrics binds to (0.0.0.0 in containers) |
| CLEARANCE_WATCHDOG_STALL_S | 300 | exit (to be restarted) after this long with lag and nothing consumed; 0: off |
| CLEARANCE_WATCHDOG_REJOIN_S | 120 | exit (to be restarted) after this long outside the consumer group; 0: off |
| CLEARANCE_EVENT_LOOP | uvloop | the worker's event loop: uvloop, or aio for asyncio's own |
| CLEARANCE_PRODUCER_LINGER_MS | 20 | how long the producer gathers a batch (more: faster bulk, slower live) |
| CLEARANCE_MAX_EVENT_BYTES | 1048576 | larger record-change events are dead-lettered as ``oversized`` |
| CLEARANCE_MAX_MESSAGE_BYTES | 1000000 | largest message the worker sends; a larger output is dead-lettered |
| CLEARANCE_STATE_BUDGET_BYTES | 900000 | largest stored state of a person; beyond it the person is held |
| CLEARANCE_FETCH_MAX_WAIT_MS | 50 | how long a fetch may wait for data (faust's fixed 1.5 s stalled bulk loads) |
| CLEARANCE_PARTITIONS | 4 | input topic partitions of a ``faust -A`` worker (``clearance worker`` asks the broker) |
| CLEARANCE_REPLICATION_FACTOR | 1 | replication factor of the topics the worker declares (faust's changelog) |
| CLEARANCE_STANDBY_REPLICAS | 0 | standby copies of each table partition kept warm by other workers (faster failover) |
| CLEARANCE_PROCESSING_GUARANTEE | at_least_once | exactly_once: transactions fence a worker that lost its partitions |
| CLEARANCE_POLICIES | deploy/policies/statewide.json | the county policies file of a worker started by ``faust -A`` |
| CLEARANCE_TIMEZONE | America/Los_Angeles | time zone of the processing date (counties without a fixed compute_at) |
| CLEARANCE_EXPLAIN_PORT | 0 (off) | port of the worker's live explain (``GET /subjects/<id>``); 0 or empty: off |
| CLEARANCE_EXPLAIN_HOST | 127.0.0.1 | address the explain endpoint binds to |
| CLEARANCE_EXPLAIN_TOKEN / _TOKEN_FILE | – | its bearer token, or a file holding it (required to start it) |
| CLEARANCE_EXPLAIN_WORKERS | – | ``clearance explain --live``: the workers' explain URLs, comma-separated |
| CLEARANCE_DLQ_RETENTION_DAYS | 90 | days ``clearance topics create`` keeps dead letters (``forever``: never deleted) |
| CLEARANCE_ALLOW_WITHDRAWALS | – | ``1``: accept policies that remove a county or may withdraw many candidates |
| CLEARANCE_WITHDRAWAL_THRESHOLD | 0.1 | share of current candidates a policy change may put at risk without that flag |

Every variable the project reads is read here, and only when a :class:`Settings` is made: importing a module never
reads the environment, and code that builds the worker passes a ``Settings`` down instead of writing variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.errors import ClearanceError
from streams.events.model import MAX_EVENT_BYTES

# Below Kafka's default message.max.bytes (1,048,588) and equal to the producer's default max.request.size, which
# counts the record's framing too (the worker keeps a margin for it).
DEFAULT_MAX_MESSAGE_BYTES = 1_000_000
# A person's state is one changelog message: kept below the message limit with room for the key and framing.
DEFAULT_STATE_BUDGET_BYTES = 900_000

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_POLICIES = "deploy/policies/statewide.json"
# The processing date of a county without a fixed compute_at is California's: at UTC midnight it is still the
# afternoon before in California, and an answer due "on the birthday" must not come 7-8 hours early.
DEFAULT_TIMEZONE = "America/Los_Angeles"
# Dead letters hold the rejected input verbatim (people's records), so they are not kept forever by default, but
# long enough that a rejected event is still there when someone looks after a holiday, a quarter-end or an audit.
DEFAULT_DLQ_RETENTION_DAYS = 90
# A policy change that may withdraw more than this share of the current candidates needs CLEARANCE_ALLOW_WITHDRAWALS.
DEFAULT_WITHDRAWAL_THRESHOLD = 0.1


class SettingsError(ClearanceError):
    """An environment variable holds a value its setting cannot take; the message names the variable."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _timezone_env(name: str, default: str) -> str:
    text = _env(name, default)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{name} must be an IANA time zone such as {default}, got {text!r}") from None
    return text


def _retention_days_env(name: str, default: int) -> int:
    """Days as milliseconds; ``forever`` (or -1) is Kafka's -1, never deleted."""
    text = _env(name, str(default)).strip().lower()
    if text in ("forever", "-1"):
        return -1
    try:
        days = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number of days or 'forever', got {text!r}") from None
    if days < 1:
        raise SettingsError(f"{name} must be at least 1 day (or 'forever'), got {days}")
    return days * 86_400_000


def _bool_env(name: str) -> bool:
    text = _env(name, "0").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0 (true/false), got {text!r}")


def _share_env(name: str, default: float) -> float:
    text = _env(name, str(default))
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a share between 0 and 1 such as {default}, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"{name} must be a share between 0 and 1 such as {default}, got {text!r}")
    return value


def _choice_env(name: str, default: str, choices: tuple[str, ...]) -> str:
    text = _env(name, default)
    if text not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {text!r}")
    return text


def _int_env(name: str, default: int, minimum: int = 0) -> int:
    text = _env(name, str(default))
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    bootstrap: str = field(default_factory=lambda: _env("CLEARANCE_KAFKA_BOOTSTRAP", DEFAULT_BOOTSTRAP))
    security_protocol: str = field(default_factory=lambda: _env("CLEARANCE_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"))
    sasl_mechanism: str = field(default_factory=lambda: _env("CLEARANCE_KAFKA_SASL_MECHANISM", "PLAIN"))
    sasl_username: str = field(default_factory=lambda: _env("CLEARANCE_KAFKA_SASL_USERNAME", ""))
    sasl_password: str = field(default_factory=lambda: _env("CLEARANCE_KAFKA_SASL_PASSWORD", ""))
    ssl_cafile: str = field(default_factory=lambda: _env("CLEARANCE_KAFKA_SSL_CAFILE", ""))
    data_dir: Path = field(default_factory=lambda: Path(_env("CLEARANCE_DATA_DIR", "var")).resolve())
    topic_prefix: str = field(default_factory=lambda: _env("CLEARANCE_TOPIC_PREFIX", ""))
    app_id: str = field(default_factory=lambda: _env("CLEARANCE_APP_ID", "clearance-streams"))
    store: str = field(default_factory=lambda: _env("CLEARANCE_STORE", "rocksdb://"))
    metrics_port: int = field(default_factory=lambda: _int_env("CLEARANCE_METRICS_PORT", 9108))
    metrics_host: str = field(default_factory=lambda: _env("CLEARANCE_METRICS_HOST", "127.0.0.1"))
    watchdog_stall_s: int = field(default_factory=lambda: _int_env("CLEARANCE_WATCHDOG_STALL_S", 300))
    watchdog_rejoin_s: int = field(default_factory=lambda: _int_env("CLEARANCE_WATCHDOG_REJOIN_S", 120))
    event_loop: str = field(default_factory=lambda: _env("CLEARANCE_EVENT_LOOP", "uvloop"))
    producer_linger_ms: int = field(default_factory=lambda: _int_env("CLEARANCE_PRODUCER_LINGER_MS", 20))
    max_event_bytes: int = field(default_factory=lambda: _int_env("CLEARANCE_MAX_EVENT_BYTES", MAX_EVENT_BYTES, 1))
    max_message_bytes: int = field(
        default_factory=lambda: _int_env("CLEARANCE_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES, 65_536))
    state_budget_bytes: int = field(
        default_factory=lambda: _int_env("CLEARANCE_STATE_BUDGET_BYTES", DEFAULT_STATE_BUDGET_BYTES, 16_384))
    fetch_max_wait_ms: int = field(default_factory=lambda: _int_env("CLEARANCE_FETCH_MAX_WAIT_MS", 50))
    partitions: int = field(default_factory=lambda: _int_env("CLEARANCE_PARTITIONS", 4, 1))
    replication_factor: int = field(default_factory=lambda: _int_env("CLEARANCE_REPLICATION_FACTOR", 1, 1))
    standby_replicas: int = field(default_factory=lambda: _int_env("CLEARANCE_STANDBY_REPLICAS", 0))
    processing_guarantee: str = field(default_factory=lambda: _choice_env(
        "CLEARANCE_PROCESSING_GUARANTEE", "at_least_once", ("at_least_once", "exactly_once")))
    policies_path: Path = field(default_factory=lambda: Path(_env("CLEARANCE_POLICIES", DEFAULT_POLICIES)))
    timezone: str = field(default_factory=lambda: _timezone_env("CLEARANCE_TIMEZONE", DEFAULT_TIMEZONE))
    explain_port: int = field(default_factory=lambda: _int_env("CLEARANCE_EXPLAIN_PORT", 0))
    explain_host: str = field(default_factory=lambda: _env("CLEARANCE_EXPLAIN_HOST", "127.0.0.1"))
    explain_token_env: str = field(default_factory=lambda: _env("CLEARANCE_EXPLAIN_TOKEN", ""), repr=False)
    explain_token_file: str = field(default_factory=lambda: _env("CLEARANCE_EXPLAIN_TOKEN_FILE", ""))
    explain_workers: tuple[str, ...] = field(default_factory=lambda: tuple(
        url.strip() for url in _env("CLEARANCE_EXPLAIN_WORKERS", "").split(",") if url.strip()))
    dlq_retention_ms: int = field(
        default_factory=lambda: _retention_days_env("CLEARANCE_DLQ_RETENTION_DAYS", DEFAULT_DLQ_RETENTION_DAYS))
    allow_withdrawals: bool = field(default_factory=lambda: _bool_env("CLEARANCE_ALLOW_WITHDRAWALS"))
    withdrawal_threshold: float = field(
        default_factory=lambda: _share_env("CLEARANCE_WITHDRAWAL_THRESHOLD", DEFAULT_WITHDRAWAL_THRESHOLD))

    def processing_date(self) -> date:
        """Today in :attr:`timezone`: the date counties without a fixed compute_at are evaluated at."""
        return datetime.now(ZoneInfo(self.timezone)).date()

    def explain_token(self) -> str:
        """The explain endpoint's bearer token: ``CLEARANCE_EXPLAIN_TOKEN``, else the first line of
        ``CLEARANCE_EXPLAIN_TOKEN_FILE``; "" when neither is set (the endpoint then refuses to start)."""
        if self.explain_token_env:
            return self.explain_token_env.strip()
        if not self.explain_token_file:
            return ""
        try:
            text = Path(self.explain_token_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"CLEARANCE_EXPLAIN_TOKEN_FILE {self.explain_token_file!r} cannot be read: "
                                f"{exc.strerror or exc}") from None
        return text.strip()

    def topic(self, name: str) -> str:
        """Full topic name with the environment's prefix."""
        return f"{self.topic_prefix}{name}"

    def kafka_client_kwargs(self) -> dict[str, object]:
        """Security keyword arguments shared by every aiokafka client (producer, consumer, admin)."""
        kwargs: dict[str, object] = {"bootstrap_servers": self.bootstrap, "security_protocol": self.security_protocol}
        if self.security_protocol.startswith("SASL"):
            kwargs |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password,
            }
        if self.security_protocol in ("SSL", "SASL_SSL"):
            kwargs["ssl_context"] = self.ssl_context()
        return kwargs

    def ssl_context(self) -> Any:
        """TLS context for SSL/SASL_SSL (trusting ``ssl_cafile`` when set), shared by aiokafka and faust clients."""
        from aiokafka.helpers import create_ssl_context

        return create_ssl_context(cafile=self.ssl_cafile or None)


# Topic base names (spec of the streaming issue); always go through Settings.topic() to apply the prefix.
RECORD_CHANGES = "court.record-changes"
DETERMINATIONS = "clearance.determinations"
CANDIDATES = "clearance.dismissal-candidates"
DEAD_LETTERS = "court.record-changes.dlq"
# The last policy set a worker accepted, per app id (compacted): how the next start knows what a new file withdraws.
ACCEPTED_POLICIES = "clearance.accepted-policies"
