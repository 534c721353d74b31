"""The local broker's configuration: which bootstraps are ours, server.properties, JVM flags, cluster id."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from string import Template

import pytest

from streams.kafka.broker_config import (
    DEFAULT_HEAP_OPTS,
    Endpoint,
    ListenerSecurity,
    advertised_bootstrap,
    broker_jvm_options,
    local_endpoint,
    new_cluster_id,
    parse_endpoint,
    read_properties,
    render_properties,
)
from streams.kafka.jars import DEFAULT_HOME

TEMPLATE = (DEFAULT_HOME / "server.properties.template").read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9092", Endpoint("127.0.0.1", 9092)),
        ("127.0.0.1", Endpoint("127.0.0.1", 9092)),
        ("localhost:19092", Endpoint("localhost", 19092)),
        ("[::1]:9093", Endpoint("::1", 9093)),
        (" kafka.example.org:9094 ", Endpoint("kafka.example.org", 9094)),
    ],
)
def test_parse_endpoint(text: str, expected: Endpoint) -> None:
    assert parse_endpoint(text) == expected


@pytest.mark.parametrize("text", ["", ":9092", "host:port", "127.0.0.1:0", "127.0.0.1:70000"])
def test_parse_endpoint_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_endpoint(text)


@pytest.mark.parametrize(
    ("bootstrap", "local"),
    [
        ("127.0.0.1:9092", "127.0.0.1:9092"),
        ("127.0.0.2:9000", "127.0.0.2:9000"),
        ("localhost", "localhost:9092"),
        ("[::1]:9092", "[::1]:9092"),
        ("10.0.0.5:9092", None),
        ("kafka.example.org:9092", None),
        ("0.0.0.0:9092", None),
        ("127.0.0.1:9092,127.0.0.1:9093", None),
        ("127.0.0.1:notaport", None),
    ],
)
def test_only_a_single_loopback_endpoint_is_ours(bootstrap: str, local: str | None) -> None:
    endpoint = local_endpoint(bootstrap)
    assert (None if endpoint is None else str(endpoint)) == local


def test_localhost_binds_to_the_ipv4_loopback() -> None:
    assert Endpoint("localhost", 9092).bind_host == "127.0.0.1"
    assert Endpoint("::1", 9092).listener_host == "[::1]"


def test_template_placeholders_are_exactly_the_rendered_ones() -> None:
    assert set(Template(TEMPLATE).get_identifiers()) == {
        "host", "broker_port", "controller_port", "log_dirs",
        "extra_listeners", "extra_advertised", "extra_protocols", "security",
    }


def test_the_broker_never_auto_creates_topics(tmp_path: Path) -> None:
    """An auto-created output is delete-policy, 7-day, 1-partition: answers would silently expire (issue 10, #6)."""
    props = read_properties(render_properties(TEMPLATE, Endpoint("127.0.0.1", 19092), 19093, tmp_path))
    assert props["auto.create.topics.enable"] == "false"


def test_security_adds_tls_and_sasl_ssl_listeners_on_loopback(tmp_path: Path) -> None:
    security = ListenerSecurity(tmp_path / "broker.p12", "pw", ssl_port=19094, sasl_ssl_port=19095,
                                scram_users={"alice": "alice-secret"})
    rendered = render_properties(TEMPLATE, Endpoint("127.0.0.1", 19092), 19093, tmp_path, security)
    props = read_properties(rendered)
    assert props["listeners"] == ("PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093,"
                                  "SSL://127.0.0.1:19094,SASL_SSL://127.0.0.1:19095")
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092,SSL://127.0.0.1:19094,SASL_SSL://127.0.0.1:19095"
    assert advertised_bootstrap(props) == "127.0.0.1:19092"  # what the readiness probe and `status` use
    assert props["listener.security.protocol.map"].split(",") == [
        "CONTROLLER:PLAINTEXT", "PLAINTEXT:PLAINTEXT", "SSL:SSL", "SASL_SSL:SASL_SSL"]
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["ssl.keystore.location"] == str(tmp_path / "broker.p12")
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert "ScramLoginModule required;" in props["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"]
    assert security.format_arguments() == ["--add-scram", "SCRAM-SHA-512=[name=alice,password=alice-secret]"]
    assert "$" not in rendered


def test_rendered_properties_are_a_loopback_single_node_kraft_broker(tmp_path: Path) -> None:
    rendered = render_properties(TEMPLATE, Endpoint("127.0.0.1", 19092), 19093, tmp_path / "data")
    props = read_properties(rendered)
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert "$" not in rendered
    assert "ssl." not in rendered and "sasl." not in rendered  # no security listener unless asked for
    # Everything a single node needs at replication 1, including Faust's exactly-once transaction state.
    for key in (
        "default.replication.factor",
        "min.insync.replicas",
        "offsets.topic.replication.factor",
        "offsets.topic.num.partitions",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
    ):
        assert props[key] == "1", key
    assert props["group.initial.rebalance.delay.ms"] == "0"
    # No listener may leave loopback.
    for address in re.findall(r"://([^,]+)", props["listeners"] + "," + props["advertised.listeners"]):
        assert address.startswith("127.0.0.1:")


def test_ipv6_loopback_listeners_are_bracketed(tmp_path: Path) -> None:
    props = read_properties(render_properties(TEMPLATE, Endpoint("::1", 9092), 9093, tmp_path))
    assert props["listeners"] == "PLAINTEXT://[::1]:9092,CONTROLLER://[::1]:9093"
    assert advertised_bootstrap(props) == "[::1]:9092"


def test_advertised_bootstrap_reads_the_plaintext_listener() -> None:
    props = {"advertised.listeners": "CONTROLLER://127.0.0.1:1,PLAINTEXT://127.0.0.1:2"}
    assert advertised_bootstrap(props) == "127.0.0.1:2"
    assert advertised_bootstrap({}) is None


def test_read_properties_skips_comments_and_blank_lines() -> None:
    assert read_properties("# a=b\n! c=d\n\n x = y \nk=v=w\n") == {"x": "y", "k": "v=w"}


def test_cluster_ids_are_kafka_uuids() -> None:
    ids = {new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cluster_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_jvm_options_default_to_a_modest_heap_and_the_project_log_config(tmp_path: Path) -> None:
    options = broker_jvm_options({}, tmp_path / "logs", tmp_path / "log4j2.xml")
    assert options[:2] == DEFAULT_HEAP_OPTS.split()
    assert f"-Dkafka.logs.dir={tmp_path / 'logs'}" in options
    assert f"-Dlog4j2.configurationFile={tmp_path / 'log4j2.xml'}" in options


def test_jvm_options_follow_kafkas_environment_variables(tmp_path: Path) -> None:
    env = {
        "KAFKA_HEAP_OPTS": "-Xmx1g -Xms1g",
        "KAFKA_JVM_PERFORMANCE_OPTS": "-XX:+UseSerialGC",
        "KAFKA_OPTS": "-Da=b",
    }
    options = broker_jvm_options(env, tmp_path, tmp_path / "log4j2.xml")
    assert options[:3] == ["-Xmx1g", "-Xms1g", "-XX:+UseSerialGC"]
    assert options[-1] == "-Da=b"
    assert "-XX:+UseG1GC" not in options
