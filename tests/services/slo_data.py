"""SLOs and status snapshots for the SLO UI, API and admin tests."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.models.slos import SLO, SLOStatus

COMPUTED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BURN_RATE_KEYS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "window")


def make_slo(service, number=0, **fields) -> SLO:
    values = {
        "name": f"Availability {number:02d}",
        "slug": f"availability-{number:02d}",
        "objective": Decimal("99.9"),
        "events_query": f'sum(rate(http_requests_total{{job="api{number}",code!~"5.."}}'
        "[{{.window}}]))",
        "total_query": f'sum(rate(http_requests_total{{job="api{number}"}}[{{{{.window}}}}]))',
    }
    values.update(fields)
    return SLO.objects.create(service=service, **values)


def make_status(slo, *, remaining=0.42, alert="none", tier="caution", stale=False, **fields):
    """A snapshot as the worker stores it: a steady burn and a chartable series."""
    values = {
        "computed_at": COMPUTED_AT,
        "window_start": COMPUTED_AT - timedelta(days=30),
        "window_end": COMPUTED_AT,
        "attainment": 0.99942,
        "allowed_bad": 100.0,
        "bad": (1 - remaining) * 100,
        "consumed": 1 - remaining,
        "remaining": remaining,
        "burn_rates": dict.fromkeys(BURN_RATE_KEYS, 0.58) | {"1h": 2.5},
        "alert": alert,
        "policy_tier": tier,
        "coverage": 0.97,
        "latest_data_at": COMPUTED_AT - timedelta(minutes=5),
        "stale": stale,
        "series": {
            "budget": [
                ["2026-11-19T12:00:00+00:00", 0.5],
                ["2026-11-20T12:00:00+00:00", remaining],
            ],
            "burn_1h": [["2026-11-19T12:00:00+00:00", 1.0], ["2026-11-20T12:00:00+00:00", 2.5]],
        },
        "monthly": [
            {
                "start": "2026-09-30T22:00:00+00:00",
                "end": "2026-10-31T23:00:00+00:00",
                "attainment": 0.9995,
                "met": True,
            },
            {
                "start": "2026-10-31T23:00:00+00:00",
                "end": "2026-11-30T23:00:00+00:00",
                "attainment": 0.9981,
                "met": False,
            },
        ],
    }
    values.update(fields)
    return SLOStatus.objects.create(slo=slo, **values)
