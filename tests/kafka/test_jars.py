"""The Maven-fetched jar cache, and the deploy/kafka files that define the broker's classpath and logs."""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from streams.kafka import jars
from streams.kafka.broker import LocalBroker
from streams.kafka.errors import KafkaSetupError

POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def _pom() -> ET.Element:
    return ET.parse(jars.DEFAULT_HOME / "pom.xml").getroot()


def _dependencies() -> dict[str, str]:
    """artifactId -> resolved version of the pom's direct dependencies."""
    root = _pom()
    section = root.find("m:properties", POM_NS)
    assert section is not None
    properties = {el.tag.split("}")[1]: el.text or "" for el in section}
    versions: dict[str, str] = {}
    for dep in root.findall("m:dependencies/m:dependency", POM_NS):
        version = dep.findtext("m:version", "", POM_NS)
        if version.startswith("${"):
            version = properties[version[2:-1]]
        versions[dep.findtext("m:artifactId", "", POM_NS)] = version
    return versions


def test_pom_pins_kafka_4_3_1_broker_and_tools() -> None:
    deps = _dependencies()
    assert deps["kafka_2.13"] == "4.3.1"
    assert deps["kafka-tools"] == "4.3.1"


def test_pom_adds_the_slf4j_1_binding_kafkas_poms_lack() -> None:
    deps = _dependencies()
    assert deps["slf4j-api"].startswith("1.7.")
    assert "log4j-slf4j2-impl" not in deps  # an SLF4J 2 binding would leave Kafka's slf4j 1.7 without logging
    assert deps["log4j-slf4j-impl"] == deps["log4j-api"] == deps["log4j-core"]


def test_pom_leaves_kafka_connect_out_of_the_tools() -> None:
    excluded = [el.text for el in _pom().iterfind(".//m:exclusion/m:artifactId", POM_NS)]
    assert excluded == ["connect-runtime"]


@pytest.mark.parametrize("name", ["log4j2.xml", "tools-log4j2.xml"])
def test_log4j2_configs_are_xml_with_a_root_logger(name: str) -> None:
    root = ET.parse(jars.DEFAULT_HOME / name).getroot()
    assert root.tag == "Configuration"
    assert root.find("Loggers/Root") is not None


def test_broker_log4j2_writes_under_kafka_logs_dir_and_keeps_logging_through_shutdown() -> None:
    root = ET.parse(jars.DEFAULT_HOME / "log4j2.xml").getroot()
    rolling = root.find("Appenders/RollingFile")
    assert rolling is not None
    assert rolling.get("fileName") == "${sys:kafka.logs.dir}/server.log"
    # log4j2's own shutdown hook would otherwise stop logging before Kafka's controlled shutdown finishes.
    assert root.get("shutdownHook") == "disable"


def test_classpath_is_one_wildcard_argument(tmp_path: Path) -> None:
    assert jars.classpath(tmp_path) == f"{tmp_path}/lib/*"
    argv = jars.java_argv("kafka.tools.StorageTool", ["version"], home=tmp_path, java="/usr/bin/java")
    assert argv == [
        "/usr/bin/java",
        "-Xmx256m",
        f"-Dlog4j2.configurationFile={tmp_path / 'tools-log4j2.xml'}",
        "-cp",
        f"{tmp_path}/lib/*",
        "kafka.tools.StorageTool",
        "version",
    ]


def test_java_argv_keeps_an_explicit_log_config(tmp_path: Path) -> None:
    argv = jars.java_argv(
        "kafka.Kafka", [], home=tmp_path, jvm_options=["-Dlog4j2.configurationFile=x"], java="j"
    )
    assert [a for a in argv if "log4j2" in a] == ["-Dlog4j2.configurationFile=x"]


def test_missing_java_is_a_setup_error_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(KafkaSetupError, match="`java` not found on PATH: install a JDK"):
        jars.java_executable({"PATH": str(tmp_path)})
    with pytest.raises(KafkaSetupError, match="JAVA_HOME"):
        jars.java_executable({"JAVA_HOME": str(tmp_path), "PATH": os.environ["PATH"]})


def test_missing_mvn_is_a_setup_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pom.xml").write_text("<project/>")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(KafkaSetupError, match="`mvn` not found on PATH: install Apache Maven"):
        jars.fetch_jars(tmp_path)


# A stand-in for Maven that copies "jars" named in $FAKE_JARS into -DoutputDirectory and counts its runs, so
# the cache logic is tested without the network; the real Maven is exercised by the session broker fixture.
FAKE_MVN = """#!/bin/sh
echo run >> "$FAKE_MVN_LOG"
[ -n "$FAKE_MVN_FAIL" ] && { echo "[ERROR] Could not resolve dependencies"; exit 1; }
for arg in "$@"; do case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac; done
for jar in $FAKE_JARS; do echo jar > "$out/$jar"; done
"""


@pytest.fixture
def fake_maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, Path]:
    home = tmp_path / "kafka-home"
    home.mkdir()
    (home / "pom.xml").write_text("<project>v1</project>")
    mvn = tmp_path / "mvn"
    mvn.write_text(FAKE_MVN)
    mvn.chmod(mvn.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "mvn.log"
    monkeypatch.setenv("FAKE_MVN_LOG", str(log))
    monkeypatch.setenv("FAKE_JARS", "kafka_2.13-4.3.1.jar kafka-clients-4.3.1.jar")
    monkeypatch.delenv("FAKE_MVN_FAIL", raising=False)
    return home, str(mvn), log


def _runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_fetch_runs_maven_once_per_pom_version(
    fake_maven: tuple[Path, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, mvn, log = fake_maven
    assert not jars.jars_current(home)
    assert jars.fetch_jars(home, mvn=mvn) is True
    assert jars.jars_current(home)
    assert sorted(p.name for p in jars.lib_dir(home).glob("*.jar")) == [
        "kafka-clients-4.3.1.jar",
        "kafka_2.13-4.3.1.jar",
    ]
    assert jars.fetch_jars(home, mvn=mvn) is False
    assert _runs(log) == 1

    (home / "pom.xml").write_text("<project>v2</project>")
    monkeypatch.setenv("FAKE_JARS", "kafka_2.13-4.4.0.jar")
    assert not jars.jars_current(home)
    assert jars.fetch_jars(home, mvn=mvn) is True
    assert _runs(log) == 2
    # Old jars must go: two Kafka versions on one classpath would be a broken broker.
    assert [p.name for p in jars.lib_dir(home).glob("*.jar")] == ["kafka_2.13-4.4.0.jar"]
    assert [p.name for p in jars.lib_dir(home).iterdir() if p.is_dir()] == []


def test_failed_fetch_keeps_the_previous_jars_and_reports_mavens_output(
    fake_maven: tuple[Path, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, mvn, _ = fake_maven
    jars.fetch_jars(home, mvn=mvn)
    (home / "pom.xml").write_text("<project>v2</project>")
    monkeypatch.setenv("FAKE_MVN_FAIL", "1")
    with pytest.raises(KafkaSetupError, match=r"(?s)exit 1.*Could not resolve dependencies"):
        jars.fetch_jars(home, mvn=mvn)
    assert (jars.lib_dir(home) / "kafka_2.13-4.3.1.jar").exists()
    assert not jars.jars_current(home)  # so the next start tries again


def test_maven_output_without_a_broker_jar_is_not_a_fetch(
    fake_maven: tuple[Path, str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, mvn, _ = fake_maven
    monkeypatch.setenv("FAKE_JARS", "kafka-clients-4.3.1.jar")
    with pytest.raises(KafkaSetupError, match="could not fetch"):
        jars.fetch_jars(home, mvn=mvn)
    assert not jars.jars_current(home)


@pytest.mark.kafka
def test_fetched_classpath_has_one_kafka_and_a_working_logging_binding(
    kafka_broker: LocalBroker | None,
) -> None:
    if kafka_broker is None:
        pytest.skip("external cluster: the session did not need the project's jars")
    assert jars.jars_current()
    names = {p.name for p in jars.lib_dir().glob("*.jar")}
    assert len([n for n in names if n.startswith("kafka_2.13-")]) == 1
    assert any(n.startswith("log4j-slf4j-impl-") for n in names)
    assert [n for n in names if n.startswith("slf4j-api-")] == ["slf4j-api-1.7.36.jar"]
    assert not any(n.startswith("connect-runtime-") for n in names)
