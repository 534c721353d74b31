"""Properties over arbitrary histories: the engine never crashes and only ever decides what the flow
evaluates."""

from __future__ import annotations

import json
from datetime import datetime

from factories import numbered
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.doj.record import SEE_COMMENT
from streams.gocompat.dates import ZERO_TIME
from streams.rules.engine import classify_subject, subject_for
from streams.rules.flows.registry import make_flow
from streams.rules.flows.whatif import dismiss_all_prop64
from streams.rules.info import ELIGIBILITY_COLUMNS
from streams.rules.matchers import is_prop64, is_related
from streams.rules.subject import build_subject

COUNTIES = ["LOS ANGELES", "SACRAMENTO", "SAN JOAQUIN", "CONTRA COSTA", "X", ""]
CODES = [
    "11357 HS", "11357(A) HS", "11357(b) HS", "11358 HS", "66411359 HS", "11360(A)HS", "4060 BP", "4060 BP ",
    "148 PC", "1320(a) PC", "187 PC", "136.1 PC", "186.22(B)(4) PC", "246/186.22(B)(4) PC", "288 PC",
    "266J PC", "290 PC", "459 PC", "", " ", "11357",
]  # fmt: skip
FULL_OPTIONS = {
    "baselineEligibility": {"dismiss": ["11357", "11358"], "reduce": ["11359"]},
    "additionalRelief": {
        "subjectUnder21AtConviction": True,
        "subjectAgeThreshold": 50,
        "yearsSinceConvictionThreshold": 10,
        "yearsCrimeFreeThreshold": 5,
        "subjectHasOnlyProp64Charges": True,
        "subjectIsDeceased": True,
    },
}
FLOWS = [
    make_flow("configurable", "X", options=FULL_OPTIONS),
    make_flow("configurable", "SACRAMENTO", options={}),
    make_flow("los_angeles", "LOS ANGELES"),
    make_flow("sacramento", "SACRAMENTO"),
    make_flow("san_joaquin", "SAN JOAQUIN"),
    make_flow("contra_costa", "CONTRA COSTA"),
    dismiss_all_prop64("X"),
]

dates = st.one_of(
    st.just(ZERO_TIME),
    st.just(datetime(2016, 11, 9)),
    st.dates(min_value=datetime(1, 1, 1).date(), max_value=datetime(9999, 12, 31).date()).map(
        lambda d: datetime(d.year, d.month, d.day)
    ),
)
codes = st.one_of(st.sampled_from(CODES), st.text(max_size=16))
count_orders = st.one_of(
    st.sampled_from(["101001001000", "101001002000", "102001001000", "102002001000"]),
    st.text(alphabet="0123456789", max_size=12),
)


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[int, list[str]]]:
    size = draw(st.integers(min_value=0, max_value=12))
    dob = draw(dates)
    rows = []
    for index in range(size):
        code = draw(codes)
        offense = draw(st.sampled_from([code + "-DESCR", "", SEE_COMMENT, " " + code]))
        rows.append(
            numbered(
                index,
                subject="S",
                dob=dob,
                convicted=draw(st.booleans()),
                date=draw(dates),
                felony=draw(st.booleans()),
                county=draw(st.sampled_from(COUNTIES)),
                step=draw(
                    st.sampled_from(["COURT ACTION", "DECEASED", "REGISTRATION", "ARREST/DETAINED/CITED"])
                ),
                ofn=draw(st.sampled_from(["", "A1", "B 2"])),
                count_order=draw(count_orders),
                sentence=(
                    str(draw(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1))),
                    draw(st.sampled_from(["D", "M", "Y", ""])),
                ),
                offense=offense,
                comment=draw(st.sampled_from(["", code, "11357(A) HS-X"])),
            )
        )
    return rows


@settings(max_examples=300)
@given(rows=histories(), compute_at=dates)
def test_engine_decides_only_what_the_flow_evaluates(rows: list[tuple[int, list[str]]], compute_at: datetime) -> None:
    subject = build_subject("S", rows)
    for flow in FLOWS:
        infos = classify_subject(subject, flow, compute_at)
        view = subject_for(subject, flow)
        by_index = {conviction.index: conviction for conviction in view.convictions}
        evaluated = [c.index for c in view.convictions if flow.evaluates(view, c)]
        assert list(infos) == evaluated  # at most one info per conviction, in conviction order
        for index, info in infos.items():
            conviction = by_index[index]
            assert conviction.county == flow.county
            allowed = is_prop64(conviction.code_section) or (
                flow.name in ("san_joaquin", "contra_costa")
                and is_related(conviction.code_section)
            )
            assert allowed
            assert len(info.columns("")) == len(ELIGIBILITY_COLUMNS)
            json.dumps(info.facts())


@settings(max_examples=150)
@given(rows=histories(), compute_at=dates)
def test_decisions_are_pure(rows: list[tuple[int, list[str]]], compute_at: datetime) -> None:
    subject = build_subject("S", rows)
    before = subject.facts
    for flow in FLOWS:
        view = subject_for(subject, flow)
        for conviction in view.convictions:
            first = flow.decide(view, conviction, compute_at)
            assert flow.decide(view, conviction, compute_at) == first
    assert subject.facts == before
    assert classify_subject(subject, FLOWS[0], compute_at) == classify_subject(subject, FLOWS[0], compute_at)
