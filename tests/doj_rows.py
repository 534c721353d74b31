"""Builders of DOJ record mappings for tests of the streaming side (column names as in record-change events)."""

from __future__ import annotations

from typing import Any

from streams.events.codec import Retract, Upsert

LA = "LOS ANGELES"


def conviction(
    count_order: str, code: str, date: str, *, county: str = LA, felony: bool = True, dob: str = "19800101",
    subject: str = "S1", sentence: tuple[str, str] = ("", ""), step: str = "COURT ACTION",
) -> dict[str, Any]:
    """A convicted count as one DOJ row (a fake person; no real data)."""
    return {
        "SUBJECT_ID": subject,
        "PRI_NAME": "DOE,JANE",
        "PRI_DOB": dob,
        "STP_EVENT_DATE": date,
        "STP_TYPE_DESCR": step,
        "STP_ORI_CNTY_NAME": county,
        "CNT_ORDER": count_order,
        "OFN": f"CASE{count_order[:6]}",
        "OFFENSE_DESCR": f"{code}-SOME OFFENSE",
        "DISP_DESCR": "CONVICTED-JAIL",
        "CONV_STAT_DESCR": "FELONY" if felony else "MISDEMEANOR",
        "SENT_LENGTH": sentence[0],
        "SENT_TIME_CODE": sentence[1],
    }


def deceased(subject: str = "S1", date: str = "20190101") -> dict[str, Any]:
    return {"SUBJECT_ID": subject, "STP_EVENT_DATE": date, "STP_TYPE_DESCR": "DECEASED", "DISP_DESCR": ""}


def upsert(key: str, sequence: int, record: dict[str, Any]) -> Upsert:
    return Upsert(record_key=key, sequence=sequence, record=record)


def retract(key: str) -> Retract:
    return Retract(record_key=key, sequence=None)
