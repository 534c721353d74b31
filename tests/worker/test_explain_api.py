"""The worker's live explain endpoint without Kafka: the real HTTP server on 127.0.0.1 port 0, over a DictStore
filled by the real event handler; and ``clearance explain --live`` against it."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import LA, conviction
from prometheus_client import CollectorRegistry

from streams.cli import main
from streams.explain import render_text
from streams.explain_live import LiveExplainError, fetch
from streams.kafka.partitioner import partition_for_key
from streams.settings import Settings
from streams.worker import explain_api
from streams.worker.explain_api import answer_from_store, serve, store_lookup
from streams.worker.gauges import Gauges
from streams.worker.handler import EventHandler
from streams.worker.metrics import Metrics
from streams.worker.policies import parse_policies
from streams.worker.refresh import Refresher
from streams.worker.service import WorkerService
from streams.worker.store import DictStore

TOKEN = "s3cret-token-for-tests"
SUBJECT = "123456789"
NAME = "DOE,JANE"  # the name factories.conviction gives every record
LA_POLICY = {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11"}}}


class _Producer:
    async def send(self, *_: Any) -> None:
        return None


class _App:
    producer = _Producer()
    tables: Any = None
    consumer: Any = None
    rebalancing = False


def _event(subject: str, *records: dict[str, Any]) -> bytes:
    changes = [{"op": "upserted", "record_key": f"r{i}", "sequence": i, "record": r} for i, r in enumerate(records)]
    return json.dumps({"schema": "record-change.v1", "event_id": "e1", "type": "record.upserted",
                       "source_agency": "TEST", "emitted_at": datetime.now(UTC).isoformat(), "subject_id": subject,
                       "changes": changes}).encode()


def _service(**settings: Any) -> WorkerService:
    config = Settings(bootstrap="127.0.0.1:1", metrics_port=0, partitions=4, **settings)
    metrics = Metrics.create(CollectorRegistry())
    handler = EventHandler(_App.producer, config, parse_policies(LA_POLICY), metrics, DictStore(),
                           Gauges(metrics, config.topic("court.record-changes")))
    return WorkerService(_App(), config, handler, Refresher(handler))


async def _held_store() -> DictStore:
    service = _service()
    await service.handler.handle(
        SUBJECT.encode(),
        _event(SUBJECT, conviction("001001001000", "11359 HS", "20100101"),
               conviction("002001001000", "11357 HS", "20150101", felony=False)),
        "court.record-changes", partition_for_key(SUBJECT.encode(), 4), 1)
    store = service.handler.store
    assert isinstance(store, DictStore)
    return store


@pytest.fixture
def store() -> DictStore:
    return asyncio.run(_held_store())


@pytest.fixture
def server(store: DictStore) -> Iterator[explain_api.ExplainServer]:
    srv = serve(store_lookup(store, 4), "127.0.0.1", 0, TOKEN)
    yield srv
    srv.stop()


def _get(srv: explain_api.ExplainServer, path: str, token: str | None = TOKEN,
         method: str = "GET") -> tuple[int, bytes, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    request = urllib.request.Request(f"http://127.0.0.1:{srv.server_port}{path}", headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def test_off_by_default_no_port_is_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLEARANCE_EXPLAIN_PORT", "CLEARANCE_EXPLAIN_TOKEN", "CLEARANCE_EXPLAIN_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().explain_port == 0
    assert Settings().explain_host == "127.0.0.1"
    service = _service()
    started: list[Any] = []
    monkeypatch.setattr(explain_api, "serve", lambda *a, **k: started.append(a))
    service.serve_metrics()
    assert started == [] and service._explain_server is None


def test_without_a_token_the_endpoint_refuses_to_start_with_one_line(caplog: pytest.LogCaptureFixture) -> None:
    service = _service(explain_port=1, explain_token_env="")
    with caplog.at_level(logging.ERROR):
        service.serve_explain()
    assert service._explain_server is None
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and "CLEARANCE_EXPLAIN_TOKEN" in lines[0] and "\n" not in lines[0]
    with pytest.raises(explain_api.ExplainConfigError):
        serve(store_lookup(DictStore(), 4), "127.0.0.1", 0, "")


def test_the_token_may_come_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    monkeypatch.delenv("CLEARANCE_EXPLAIN_TOKEN", raising=False)
    monkeypatch.setenv("CLEARANCE_EXPLAIN_TOKEN_FILE", str(path))
    assert Settings().explain_token() == TOKEN
    monkeypatch.setenv("CLEARANCE_EXPLAIN_TOKEN", "from-env")
    assert Settings().explain_token() == "from-env"
    assert "from-env" not in repr(Settings())


def test_401_without_a_token_and_with_a_wrong_one(server: explain_api.ExplainServer) -> None:
    for token in (None, "wrong", TOKEN + "x", ""):
        status, body, headers = _get(server, f"/subjects/{SUBJECT}", token)
        assert status == 401, token
        assert SUBJECT.encode() not in body and b"Eligible" not in body
        assert headers["WWW-Authenticate"].startswith("Bearer")
    assert _get(server, "/subjects", None)[0] == 401  # nothing is learned about paths either


def test_200_with_the_token_returns_the_explain_document(server: explain_api.ExplainServer) -> None:
    status, body, headers = _get(server, f"/subjects/{SUBJECT}")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "no-store"
    document = json.loads(body)
    assert document["subject_id"] == SUBJECT and document["source"] == "live"
    by_count = {c["count_order"]: c for c in document["convictions"]}
    assert set(by_count) == {"001001001000", "002001001000"}
    first = by_count["001001001000"]
    assert first["determination"] == "Eligible for Dismissal"
    assert first["reason"] and first["rule"]
    assert "next_change" in first and "data_quality" in first
    assert first["code_section"].startswith("11359") and first["county"] == LA
    assert document["rulesets"]


def test_next_change_is_served_when_the_state_has_one(store: DictStore) -> None:
    state = store.get(SUBJECT.encode())
    assert state is not None
    emitted = next(iter(state.emitted.values()))
    emitted.determination["next_change"] = {"on": "2030-01-01", "becomes": "Eligible for Dismissal"}
    store.put(SUBJECT.encode(), state, 0)
    srv = serve(store_lookup(store, 4), "127.0.0.1", 0, TOKEN)
    try:
        document = json.loads(_get(srv, f"/subjects/{SUBJECT}")[1])
        changes = [c["next_change"] for c in document["convictions"] if c["next_change"]]
        assert changes == [{"on": "2030-01-01", "becomes": "Eligible for Dismissal"}]
        text = _get(srv, f"/subjects/{SUBJECT}?format=text")[1].decode()
        assert "next change" in text
    finally:
        srv.stop()


def test_format_text_renders_the_document(server: explain_api.ExplainServer) -> None:
    status, body, headers = _get(server, f"/subjects/{SUBJECT}?format=text")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert text.startswith(f"Subject {SUBJECT}") and "decided by rule:" in text and "Eligible for Dismissal" in text


def test_404_for_an_unknown_subject_and_421_for_another_workers_partition(store: DictStore) -> None:
    srv = serve(store_lookup(store, 4), "127.0.0.1", 0, TOKEN)
    try:
        assert _get(srv, "/subjects/999999999")[0] == 404
    finally:
        srv.stop()
    other = partition_for_key(b"999999999", 4)
    srv = serve(store_lookup(store, 4, owned=lambda: {p for p in range(4) if p != other}), "127.0.0.1", 0, TOKEN)
    try:
        status, body, _ = _get(srv, "/subjects/999999999")
        assert status == 421 and b"another worker" in json.loads(body)["error"].encode()
        assert _get(srv, f"/subjects/{SUBJECT}")[0] == 200  # held here
    finally:
        srv.stop()


def test_subjects_are_never_listed_or_searched(server: explain_api.ExplainServer) -> None:
    for path in ("/subjects", "/subjects/", "/", "/subjects?q=1234", f"/subjects/{SUBJECT}/records", "/metrics"):
        status, body, _ = _get(server, path)
        assert status == 404, path
        assert SUBJECT.encode() not in body
    for method in ("POST", "PUT", "DELETE"):
        assert _get(server, f"/subjects/{SUBJECT}", method=method)[0] == 405


def test_the_log_holds_no_subject_id_and_no_name(server: explain_api.ExplainServer, caplog: pytest.LogCaptureFixture,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    with caplog.at_level(logging.DEBUG):
        _get(server, f"/subjects/{SUBJECT}")
        _get(server, f"/subjects/{SUBJECT}", "wrong")
        _get(server, "/subjects/999999999")
        _get(server, f"/subjects/{SUBJECT}?format=text")
    lines = [r.getMessage() for r in caplog.records if r.name == explain_api.__name__]
    assert len(lines) == 4 and all(line.startswith("explain lookup: status ") for line in lines)
    assert [line.split()[3] for line in lines] == ["200", "401", "404", "200"]
    everything = "\n".join(r.getMessage() for r in caplog.records) + "".join(capfd.readouterr())
    for secret in (SUBJECT, "999999999", NAME, "DOE", "JANE", "CASE001001"):
        assert secret not in everything, secret


def test_the_read_is_marshalled_onto_the_event_loop(store: DictStore) -> None:
    loop = asyncio.new_event_loop()
    threads: list[str] = []
    original = store.get

    def get(key: bytes) -> Any:
        threads.append(threading.current_thread().name)
        return original(key)

    store.get = get  # type: ignore[method-assign]
    runner = threading.Thread(target=loop.run_forever, name="event-loop", daemon=True)
    runner.start()
    srv = serve(store_lookup(store, 4, loop=loop), "127.0.0.1", 0, TOKEN)
    try:
        assert _get(srv, f"/subjects/{SUBJECT}")[0] == 200
        assert threads == ["event-loop"]
    finally:
        srv.stop()
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()


def test_a_stuck_loop_answers_503_not_a_hang(store: DictStore) -> None:
    loop = asyncio.new_event_loop()  # never run: the read times out
    srv = serve(store_lookup(store, 4, loop=loop, timeout=0.2), "127.0.0.1", 0, TOKEN)
    try:
        assert _get(srv, f"/subjects/{SUBJECT}")[0] == 503
    finally:
        srv.stop()
        loop.close()


def test_the_live_cli_asks_each_worker_until_one_holds_the_subject(
    store: DictStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = serve(store_lookup(DictStore(), 4), "127.0.0.1", 0, TOKEN)
    holder = serve(store_lookup(store, 4), "127.0.0.1", 0, TOKEN)
    urls = [f"http://127.0.0.1:{empty.server_port}", f"http://127.0.0.1:{holder.server_port}"]
    try:
        monkeypatch.setenv("CLEARANCE_EXPLAIN_TOKEN", TOKEN)
        monkeypatch.setenv("CLEARANCE_EXPLAIN_WORKERS", ",".join(urls))
        assert main(["explain", SUBJECT, "--live", "--json"]) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["subject_id"] == SUBJECT and len(document["convictions"]) == 2
        assert main(["explain", SUBJECT, "--live", "--worker", urls[1]]) == 0
        assert capsys.readouterr().out.startswith(f"Subject {SUBJECT}")
        assert main(["explain", "999999999", "--live"]) == 1
        err = capsys.readouterr().err.strip()
        assert "no worker holds subject" in err and "\n" not in err
        monkeypatch.setenv("CLEARANCE_EXPLAIN_TOKEN", "wrong")
        assert main(["explain", SUBJECT, "--live"]) == 1
        assert "401" in capsys.readouterr().err
    finally:
        empty.stop()
        holder.stop()
    with pytest.raises(LiveExplainError, match="no worker answered"):
        fetch(SUBJECT, urls, TOKEN, timeout=1)
    with pytest.raises(LiveExplainError, match="--worker"):
        fetch(SUBJECT, [], TOKEN)


def test_offline_explain_without_its_flags_says_which(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", SUBJECT]) == 1
    err = capsys.readouterr().err
    assert "--input-doj and --county required" in err and "--live" in err


def test_assigned_partitions_are_read_from_the_consumer() -> None:
    from types import SimpleNamespace

    from streams.worker.faust_patches import assigned_partitions

    tps = [SimpleNamespace(topic="in", partition=1), SimpleNamespace(topic="in", partition=3),
           SimpleNamespace(topic="other", partition=0)]
    assert assigned_partitions(SimpleNamespace(consumer=SimpleNamespace(assignment=lambda: tps)), "in") == {1, 3}
    assert assigned_partitions(SimpleNamespace(consumer=SimpleNamespace(assignment=lambda: set())), "in") is None
    assert assigned_partitions(SimpleNamespace(consumer=None), "in") is None


def test_the_revision_history_says_why_each_revision_came(store: DictStore) -> None:
    """A record change (event e2: a superstrike arrives) and a policy change each revise the answer; the served
    document lists every revision with its cause, event id, date, ruleset and policy version, oldest first."""
    service = _service()
    service.handler.store = store
    key = SUBJECT.encode()
    second = json.loads(_event(SUBJECT, conviction("003001001000", "187 PC", "20120101")))
    second["event_id"] = "e2"
    second["changes"][0]["record_key"] = "later"
    asyncio.run(service.handler.handle(key, json.dumps(second).encode(), "court.record-changes",
                                       partition_for_key(key, 4), 2))
    service.handler.policies = parse_policies(
        {"counties": {LA: {"flow": "los_angeles", "compute_at": "2019-11-11", "individual_age": 39}}})
    asyncio.run(service.refresher.refresh_all(datetime(2026, 1, 1).date()))
    document = answer_from_store(store, SUBJECT, 4).document
    by_count = {c["count_order"]: c for c in document["convictions"]}
    history = by_count["001001001000"]["history"]
    assert [(h["revision"], h["cause"], h["event_id"]) for h in history] == [
        (1, "event", "e1"), (2, "event", "e2"), (3, "policies", None)]
    assert history[1]["determination"] != history[0]["determination"]
    assert {h["policy_version"] for h in history[:2]} != {history[2]["policy_version"]}
    assert all(h["ruleset"] and h["processing_date"] for h in history)
    text = render_text(document)
    assert "revisions (oldest first):" in text and "policy change" in text and "event e2" in text
