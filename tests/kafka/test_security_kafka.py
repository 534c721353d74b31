"""TLS and SASL/SCRAM against the project's own broker, started with an SSL and a SASL_SSL (SCRAM-SHA-512) listener:
the settings a deployment sets (``CLEARANCE_KAFKA_SECURITY_PROTOCOL``, ``_SSL_CAFILE``, ``_SASL_*``) carry the admin
client, ``clearance replay``, the Faust worker and ``clearance export``, and a wrong CA or password is refused.

The broker's certificate is made here with the JDK's ``keytool`` (a self-signed PKCS12 keystore for 127.0.0.1); the
SCRAM user is written into the metadata when the storage is formatted (``kafka-storage format --add-scram``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fixtures_kafka import BROKER_START_TIMEOUT_S, EXTERNAL_BOOTSTRAP_ENV, free_port
from fixtures_worker import ROOT, WorkerProcess, classify_reference

from streams.kafka.broker import LocalBroker
from streams.kafka.broker_config import SCRAM_MECHANISM, ListenerSecurity
from streams.kafka.clients import broker_answers
from streams.kafka.topics import check_topics, create_topics
from streams.settings import Settings

pytestmark = pytest.mark.kafka
PASSWORD = "keystore-pw-for-tests"
USER, SECRET = "clearance", "scram-secret-for-tests"
LA = "LOS ANGELES"
POLICIES = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2020-07-01"}}}


def keytool(*args: str) -> None:
    done = subprocess.run(["keytool", *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A PKCS12 keystore holding a key and self-signed certificate for 127.0.0.1, and that certificate as PEM."""
    keystore, pem = folder / f"{name}.p12", folder / f"{name}.pem"
    keytool("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
            "-dname", f"CN={name}", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-storetype", "PKCS12",
            "-keystore", str(keystore), "-storepass", PASSWORD, "-keypass", PASSWORD)
    keytool("-exportcert", "-rfc", "-alias", name, "-keystore", str(keystore), "-storepass", PASSWORD,
            "-file", str(pem))
    return keystore, pem


@dataclass(frozen=True)
class SecureBroker:
    broker: LocalBroker
    ca: Path  # the broker's certificate: what a client trusts
    stranger: Path  # another certificate: a client trusting only it must refuse the broker


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    if os.environ.get(EXTERNAL_BOOTSTRAP_ENV):
        pytest.skip("needs the project's own broker (its listeners are configured here)")
    if shutil.which("keytool") is None:
        pytest.skip("keytool (JDK) not found")
    folder = tmp_path_factory.mktemp("secure-broker")
    keystore, ca = self_signed(folder, "broker")
    _, stranger = self_signed(folder, "stranger")
    security = ListenerSecurity(keystore, PASSWORD, ssl_port=free_port(), sasl_ssl_port=free_port(),
                                scram_users={USER: SECRET})
    broker = LocalBroker(folder, f"127.0.0.1:{free_port()}", die_with_parent=True, security=security)
    broker.start(timeout=BROKER_START_TIMEOUT_S)
    try:
        yield SecureBroker(broker, ca, stranger)
    finally:
        broker.stop()


def _settings(secure: SecureBroker, protocol: str, tmp_path: Path, prefix: str, **over: str) -> Settings:
    base = Settings(
        bootstrap=secure.broker.listener_bootstrap(protocol), security_protocol=protocol,
        sasl_mechanism=SCRAM_MECHANISM, sasl_username=USER if protocol.startswith("SASL") else "",
        sasl_password=SECRET if protocol.startswith("SASL") else "", ssl_cafile=str(secure.ca), data_dir=tmp_path,
        topic_prefix=prefix, app_id="clearance-streams", store="rocksdb://", metrics_port=free_port(),
        metrics_host="127.0.0.1")
    return replace(base, **over)  # type: ignore[arg-type]


def _env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "CLEARANCE_KAFKA_BOOTSTRAP": settings.bootstrap,
        "CLEARANCE_KAFKA_SECURITY_PROTOCOL": settings.security_protocol,
        "CLEARANCE_KAFKA_SASL_MECHANISM": settings.sasl_mechanism,
        "CLEARANCE_KAFKA_SASL_USERNAME": settings.sasl_username,
        "CLEARANCE_KAFKA_SASL_PASSWORD": settings.sasl_password,
        "CLEARANCE_KAFKA_SSL_CAFILE": settings.ssl_cafile,
        "CLEARANCE_TOPIC_PREFIX": settings.topic_prefix,
        "CLEARANCE_DATA_DIR": str(settings.data_dir),
    }


def clearance(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streams", *args], env=_env(settings), capture_output=True,
                          text=True, timeout=300, cwd=ROOT, stdin=subprocess.DEVNULL, check=False)


def test_tls_carries_the_admin_client_and_an_untrusted_broker_is_refused(
    secure_broker: SecureBroker, tmp_path: Path, topic_prefix: str
) -> None:
    settings = _settings(secure_broker, "SSL", tmp_path, topic_prefix)
    assert asyncio.run(broker_answers(settings, timeout=20))
    report = asyncio.run(create_topics(settings, 2))
    assert len(report.created) == 5
    assert asyncio.run(check_topics(settings, input_partitions=2)) == []
    distrustful = replace(settings, ssl_cafile=str(secure_broker.stranger))
    assert not asyncio.run(broker_answers(distrustful, timeout=10))  # the certificate is checked, not just used
    plain_to_tls = replace(settings, security_protocol="PLAINTEXT")
    assert not asyncio.run(broker_answers(plain_to_tls, timeout=5))


def test_a_wrong_scram_password_is_one_line(secure_broker: SecureBroker, tmp_path: Path, topic_prefix: str) -> None:
    settings = _settings(secure_broker, "SASL_SSL", tmp_path, topic_prefix, sasl_password="not-the-password")
    done = clearance(settings, "topics", "list")
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("clearance topics: no Kafka broker answers"), done.stderr
    assert "SaslAuthenticationFailed" in lines[0] and "invalid credentials" in lines[0]  # says why
    assert "not-the-password" not in done.stderr


def test_replay_worker_and_export_over_sasl_ssl_scram(
    secure_broker: SecureBroker, tmp_path: Path, topic_prefix: str
) -> None:
    settings = _settings(secure_broker, "SASL_SSL", tmp_path, topic_prefix)
    doj = tmp_path / "doj.csv"
    done = clearance(settings, "generate-doj", "--people", "40", "--seed", "3", "--counties", LA, "--output", str(doj))
    assert done.returncode == 0, done.stderr
    expected = classify_reference(doj, json.loads(json.dumps(POLICIES)), tmp_path / "classify")
    assert expected

    done = clearance(settings, "topics", "create", "--partitions", "2")
    assert done.returncode == 0, done.stderr
    done = clearance(settings, "replay", "--input-doj", str(doj), "--no-progress")
    assert done.returncode == 0, done.stderr

    policies = tmp_path / "policies.json"
    policies.write_text(json.dumps(POLICIES))
    worker = WorkerProcess(settings, policies, tmp_path / "worker.log",
                           extra_env={k: v for k, v in _env(settings).items() if k.startswith("CLEARANCE_KAFKA")})
    worker.start()
    try:
        worker.wait_lag_zero(timeout=240)
    finally:
        worker.stop()

    out = tmp_path / "export.jsonl"
    done = clearance(settings, "export", "--output", str(out), "--wait-idle", "3")
    assert done.returncode == 0, done.stderr
    exported = {}
    for line in out.read_text().splitlines():
        det = json.loads(line)
        exported[det["conviction_id"]] = (det["determination"], det["reason"])
    assert exported == expected
