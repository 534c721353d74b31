"""The stderr progress bar: drawn in place, rate-limited, only for terminals unless forced off."""

from __future__ import annotations

import io

from streams.offline.progress import ProgressBar, wants_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_draws_in_place_and_finishes_the_line() -> None:
    out = io.StringIO()
    bar = ProgressBar("doj.csv 1/2", 2_000_000, stream=out, interval=0.0)
    bar.update(1_000_000)
    assert out.getvalue().startswith("\rdoj.csv 1/2 [" + "=" * 15 + " " * 15 + "]  50%  1.0 MB/2.0 MB")
    bar.finish()
    assert out.getvalue().endswith("\n")
    assert "100%" in out.getvalue().split("\r")[-1]


def test_updates_are_rate_limited() -> None:
    out = io.StringIO()
    bar = ProgressBar("x", 100, stream=out, interval=3600.0)
    bar.update(10)
    bar.update(20)
    assert out.getvalue().count("\r") == 1


def test_empty_total_does_not_divide_by_zero() -> None:
    out = io.StringIO()
    ProgressBar("x", 0, stream=out).finish()
    assert "100%" in out.getvalue()


def test_only_terminals_get_a_bar() -> None:
    assert wants_progress(False, _Terminal()) is True
    assert wants_progress(True, _Terminal()) is False
    assert wants_progress(False, io.StringIO()) is False
