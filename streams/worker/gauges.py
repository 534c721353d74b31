"""The worker's gauges of what it holds: people in state, current candidates, impact figures, consumer lag.

Each held person contributes to the candidate and impact gauges; the contribution is replaced whenever the person's
answers change and dropped when their partition moves to another worker, so every worker reports only the people
it holds and the gauges of all workers add up (the dashboards and alerts sum them).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from streams.doj.counties import county_bucket
from streams.events.model import ACTIVE, CANDIDATE_DETERMINATIONS
from streams.summary import Det, subject_impact
from streams.worker.metrics import Metrics
from streams.worker.state import SubjectState

log = logging.getLogger(__name__)


def candidate_counts(determinations: Iterable[Det]) -> Counter[tuple[str, str]]:
    """(county, determination) → number of current candidates (dismissal or reduction) of this person."""
    return Counter(
        (d["county"], d["determination"])
        for d in determinations
        if d.get("status", ACTIVE) == ACTIVE and d["determination"] in CANDIDATE_DETERMINATIONS
    )


@dataclass(frozen=True, slots=True)
class _Contribution:
    """One held person's share of the gauges, as sorted tuples: hashable, so equal contributions (most people's
    are one of a few patterns) are one shared object and a held person costs the gauges only its dict entry."""

    partition: int
    candidates: tuple[tuple[tuple[str, str], int], ...]
    impact: tuple[tuple[str, str], ...]
    without_policy: tuple[tuple[str, int], ...]


_SHARED_LIMIT = 100_000  # distinct contributions shared; beyond (never seen in practice) each is its own copy


class Gauges:
    """Per-subject contributions to the gauges, summed; :meth:`publish` writes them to the metrics."""

    def __init__(self, metrics: Metrics, input_topic: str) -> None:
        self.metrics = metrics
        self.input_topic = input_topic
        self._contrib: dict[bytes, _Contribution] = {}
        self._shared: dict[_Contribution, _Contribution] = {}
        self._candidates: Counter[tuple[str, str]] = Counter()
        self._impact: Counter[tuple[str, str]] = Counter()
        self._without_policy: Counter[str] = Counter()
        self._lag_partitions: set[int] = set()  # input partitions whose lag series this worker publishes

    def account(self, key: bytes, partition: int, state: SubjectState) -> None:
        """Replace this subject's contribution with what its last emitted answers say."""
        self.drop(key)
        dets = [e.determination for e in state.emitted.values()]
        without_policy: Counter[str] = Counter()
        for county, convictions in state.unpoliced.items():
            without_policy[county_bucket(county)] += convictions
        impact = subject_impact(dets)
        contrib = _Contribution(
            partition,
            tuple(sorted(candidate_counts(dets).items())),
            tuple(sorted((county, figure) for county, figures in impact.items() for figure in figures)),
            tuple(sorted(without_policy.items())),
        )
        shared = self._shared.get(contrib)
        if shared is not None:
            contrib = shared
        elif len(self._shared) < _SHARED_LIMIT:
            self._shared[contrib] = contrib
        self._contrib[key] = contrib
        self._candidates.update(dict(contrib.candidates))
        self._impact.update(contrib.impact)
        self._without_policy.update(dict(contrib.without_policy))

    def drop(self, key: bytes) -> None:
        old = self._contrib.pop(key, None)
        if old is not None:
            self._candidates.subtract(dict(old.candidates))
            self._impact.subtract(old.impact)
            self._without_policy.subtract(dict(old.without_policy))

    def drop_partitions(self, partitions: set[int]) -> None:
        """Subjects of these input partitions now belong to another worker: stop counting them here."""
        for key in [k for k, c in self._contrib.items() if c.partition in partitions]:
            self.drop(key)

    def publish(self) -> None:
        m = self.metrics
        m.subjects_in_state.set(len(self._contrib))
        for (county, determination), n in self._candidates.items():
            m.candidates.labels(county=county, determination=determination).set(n)
        for (county, figure), n in self._impact.items():
            m.set_impact(county, figure, n)
        for bucket, n in self._without_policy.items():
            m.convictions_without_policy.labels(county=bucket).set(n)

    def publish_lag(self, consumer: Any) -> int | None:
        """Messages not yet handed to the agent, per assigned input partition; returns their sum (None: no
        assignment known yet). Partitions no longer assigned lose their series: a lost partition's last lag
        would otherwise stay on this worker's /metrics for good, and ``ClearanceConsumerStalled`` fire on a
        healthy idle worker."""
        from streams.worker.faust_patches import last_read_offset

        try:
            assignment = consumer.assignment()
        except Exception:  # consumer not started yet
            return None
        mine = {tp.partition for tp in assignment if tp.topic == self.input_topic}
        self.drop_lag(self._lag_partitions - mine)
        total = 0
        for tp in assignment:
            if tp.topic != self.input_topic:
                continue
            high = consumer.highwater(tp)
            if high is None:
                continue
            read = last_read_offset(consumer, tp)
            position = (read + 1) if read is not None else 0
            lag = max(0, high - position)
            self.metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)
            self._lag_partitions.add(tp.partition)
            total += lag
        return total

    def drop_lag(self, partitions: set[int]) -> None:
        """Remove the lag series of input partitions this worker no longer holds."""
        for partition in partitions & self._lag_partitions:
            self.metrics.consumer_lag.remove(self.input_topic, str(partition))
            self._lag_partitions.discard(partition)
