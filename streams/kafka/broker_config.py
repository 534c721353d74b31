"""What the local broker is configured with, as pure functions of the bootstrap string and the data directory.

Kept apart from the process handling in ``broker`` so the decisions (is this bootstrap ours to run, which
listeners, which JVM flags) are testable without starting a JVM.
"""

from __future__ import annotations

import base64
import ipaddress
import shlex
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

DEFAULT_PORT = 9092
# kafka-server-start.sh uses 1 GiB; the project's broker serves one laptop or CI job on two cores.
DEFAULT_HEAP_OPTS = "-Xms256m -Xmx512m"
# Kafka's own defaults (bin/kafka-run-class.sh), minus flags Java 17 no longer needs.
DEFAULT_JVM_PERFORMANCE_OPTS = (
    "-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 "
    "-XX:+ExplicitGCInvokesConcurrent"
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One ``host:port`` of a bootstrap string."""

    host: str
    port: int

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def bind_host(self) -> str:
        """Where the listeners bind: ``localhost`` becomes 127.0.0.1 so the broker stays on loopback."""
        return "127.0.0.1" if self.host == "localhost" else self.host

    @property
    def listener_host(self) -> str:
        """The bind host as Kafka's listener syntax wants it (IPv6 in brackets)."""
        return f"[{self.bind_host}]" if ":" in self.bind_host else self.bind_host

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_endpoint(text: str) -> Endpoint:
    """``host[:port]`` or ``[v6]:port``; the port defaults to 9092. ``ValueError`` on garbage."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    if not host:
        raise ValueError(f"no host in {text!r}")
    port = int(port_text) if port_text else DEFAULT_PORT
    if not 0 < port < 65536:
        raise ValueError(f"port out of range in {text!r}")
    return Endpoint(host, port)


def local_endpoint(bootstrap: str) -> Endpoint | None:
    """The endpoint the local broker should serve, or ``None`` when the bootstrap names some other cluster.

    Only a single loopback ``host:port`` is ours to run: a list of servers, or any routable host, is an
    existing cluster that ``clearance broker start|stop`` must leave alone.
    """
    entries = [e for e in bootstrap.split(",") if e.strip()]
    if len(entries) != 1:
        return None
    try:
        endpoint = parse_endpoint(entries[0])
    except ValueError:
        return None
    return endpoint if endpoint.is_loopback else None


SCRAM_MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True, slots=True)
class ListenerSecurity:
    """Extra listeners of the local broker: TLS (``ssl_port``) and SASL_SSL with SCRAM-SHA-512 (``sasl_ssl_port``),
    both serving the certificate in a PKCS12 ``keystore``. The project's own clients are tested against them;
    the PLAINTEXT listener stays (inter-broker traffic, the readiness probe). ``scram_users`` (name → password)
    are written into the metadata when the storage is formatted, so they exist before the first client connects."""

    keystore: Path
    keystore_password: str
    ssl_port: int | None = None
    sasl_ssl_port: int | None = None
    scram_users: Mapping[str, str] = field(default_factory=dict)

    def listeners(self) -> list[tuple[str, int]]:
        """(listener name = security protocol, port) of each extra listener."""
        named = (("SSL", self.ssl_port), ("SASL_SSL", self.sasl_ssl_port))
        return [(name, port) for name, port in named if port is not None]

    def properties(self) -> str:
        lines = [
            "# TLS and SASL_SSL listeners (tests of the clients' security settings)",
            "ssl.keystore.type=PKCS12",
            f"ssl.keystore.location={self.keystore}",
            f"ssl.keystore.password={self.keystore_password}",
            f"ssl.key.password={self.keystore_password}",
            "ssl.client.auth=none",
        ]
        if self.sasl_ssl_port is not None:
            lines += [
                f"sasl.enabled.mechanisms={SCRAM_MECHANISM}",
                f"listener.name.sasl_ssl.sasl.enabled.mechanisms={SCRAM_MECHANISM}",
                f"listener.name.sasl_ssl.{SCRAM_MECHANISM.lower()}.sasl.jaas.config="
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            ]
        return "\n".join(lines)

    def format_arguments(self) -> list[str]:
        """``kafka-storage format --add-scram`` arguments creating the SCRAM users."""
        args: list[str] = []
        for name, password in sorted(self.scram_users.items()):
            args += ["--add-scram", f"{SCRAM_MECHANISM}=[name={name},password={password}]"]
        return args


def render_properties(
    template: str, endpoint: Endpoint, controller_port: int, log_dirs: Path, security: ListenerSecurity | None = None
) -> str:
    """Fill ``server.properties.template``; a placeholder the template needs but we do not supply is a bug."""
    extra = security.listeners() if security is not None else []
    return Template(template).substitute(
        host=endpoint.listener_host,
        broker_port=endpoint.port,
        controller_port=controller_port,
        log_dirs=str(log_dirs),
        extra_listeners="".join(f",{name}://{endpoint.listener_host}:{port}" for name, port in extra),
        extra_advertised="".join(f",{name}://{endpoint.listener_host}:{port}" for name, port in extra),
        extra_protocols="".join(f",{name}:{name}" for name, _port in extra),
        security=security.properties() if security is not None else "",
    )


def read_properties(text: str) -> dict[str, str]:
    """Enough of Java's properties syntax for files we rendered: ``key=value`` lines and comments."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#!":
            continue
        key, _, value = stripped.partition("=")
        values[key.strip()] = value.strip()
    return values


def advertised_bootstrap(properties: Mapping[str, str]) -> str | None:
    """``host:port`` of the PLAINTEXT listener a rendered configuration advertises."""
    for listener in properties.get("advertised.listeners", "").split(","):
        name, sep, address = listener.partition("://")
        if sep and name.strip() == "PLAINTEXT":
            return address
    return None


def new_cluster_id() -> str:
    """A Kafka cluster id: a random UUID as unpadded URL-safe base64 (22 characters), never starting with
    ``-`` (Kafka's ``Uuid.toString`` form, which StorageTool rejects when it looks like an option)."""
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not candidate.startswith("-"):
            return candidate


def broker_jvm_options(env: Mapping[str, str], logs_dir: Path, log4j_config: Path) -> list[str]:
    """JVM flags of the broker: heap and GC overridable with Kafka's usual variables (KAFKA_HEAP_OPTS,
    KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_OPTS), logging pinned to the project's log4j2 XML and log directory."""
    heap = env.get("KAFKA_HEAP_OPTS") or DEFAULT_HEAP_OPTS
    performance = env.get("KAFKA_JVM_PERFORMANCE_OPTS") or DEFAULT_JVM_PERFORMANCE_OPTS
    extra = env.get("KAFKA_OPTS", "")
    return [
        *shlex.split(heap),
        *shlex.split(performance),
        "-Djava.awt.headless=true",
        "-XX:+ExitOnOutOfMemoryError",
        f"-Dkafka.logs.dir={logs_dir}",
        f"-Dlog4j2.configurationFile={log4j_config}",
        *shlex.split(extra),
    ]


__all__ = [
    "DEFAULT_HEAP_OPTS",
    "DEFAULT_PORT",
    "SCRAM_MECHANISM",
    "Endpoint",
    "ListenerSecurity",
    "advertised_bootstrap",
    "broker_jvm_options",
    "local_endpoint",
    "new_cluster_id",
    "parse_endpoint",
    "read_properties",
    "render_properties",
]
