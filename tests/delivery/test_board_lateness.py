"""How late a delivery is or is going to be, against its promise (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from o2o.delivery.board import AT_RISK_MINUTES, Lateness, classify

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return NOW + timedelta(minutes=n)


@pytest.mark.parametrize(
    ("promise", "eta", "expected"),
    [
        (minutes(30), minutes(10), Lateness.ON_TIME),  # 20 minutes to spare
        (minutes(30), minutes(25), Lateness.ON_TIME),  # exactly the margin to spare
        (minutes(30), minutes(26), Lateness.AT_RISK),  # less than the margin to spare
        (minutes(30), minutes(30), Lateness.AT_RISK),  # arriving right on the promise
        (minutes(30), minutes(31), Lateness.LATE),  # projected past the promise
        (minutes(-1), minutes(5), Lateness.LATE),  # past the promise already
        (minutes(-1), minutes(-2), Lateness.LATE),  # late now whatever the projection says
        (minutes(30), None, Lateness.ON_TIME),  # no projection: judged on time left
        (minutes(3), None, Lateness.AT_RISK),
        (minutes(-3), None, Lateness.LATE),
    ],
)
def test_classification(promise: datetime, eta: datetime | None, expected: Lateness) -> None:
    assert classify(now=NOW, promised_at=promise, eta_at=eta).lateness == expected


def test_minutes_late_now_and_projected() -> None:
    verdict = classify(now=NOW, promised_at=minutes(-4), eta_at=minutes(6))
    assert verdict.minutes_late == 4.0
    assert verdict.projected_minutes_late == 10.0
    assert verdict.worst == 10.0
    early = classify(now=NOW, promised_at=minutes(20), eta_at=minutes(8))
    assert early.minutes_late == -20.0  # twenty minutes left
    assert early.projected_minutes_late == -12.0  # twelve minutes to spare on arrival
    assert early.worst == -12.0
    blind = classify(now=NOW, promised_at=minutes(20), eta_at=None)
    assert blind.projected_minutes_late is None
    assert blind.worst == -20.0


def test_the_margin_is_a_parameter() -> None:
    assert AT_RISK_MINUTES == 5.0
    loose = classify(now=NOW, promised_at=minutes(30), eta_at=minutes(15), at_risk_minutes=20)
    assert loose.lateness == Lateness.AT_RISK
