"""MTTD, MTTA, MTTR, MTBF and the counts by severity, on a fixed history worked out by hand,
directly and through the selector that reads them from the database."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from incidents.metrics import (
    DurationStats,
    IncidentMetrics,
    IncidentRecord,
    duration_stats,
    incident_metrics,
    mean_time_between_failures,
    metrics_from_json,
    metrics_to_json,
    month_starts,
    period_start,
)
from incidents.selectors.metrics import incident_metrics_for_period
from tests.factories import ServiceFactory, TeamFactory
from tests.incidents.factories import IncidentFactory

UTC = dt.UTC
START = dt.datetime(2026, 1, 1, tzinfo=UTC)
END = dt.datetime(2026, 4, 1, tzinfo=UTC)
MINUTE = dt.timedelta(minutes=1)


def moment(month, day, hour, minute=0):
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def record(severity, started, detected=None, acknowledged=None, resolved=None, *, team, services):
    """An IncidentRecord from an incident's times, as incidents.selectors.metrics computes it."""
    return IncidentRecord(
        severity=severity,
        started_at=started,
        time_to_detect=detected - started if detected else None,
        time_to_acknowledge=acknowledged - detected if acknowledged else None,
        time_to_restore=resolved - started if resolved else None,
        team_id=team,
        service_ids=services,
    )


# Teams 1 and 2; services 10 and 11 of team 1, service 20 of team 2. Each incident's times:
# severity, started, detected, acknowledged, resolved.
TIMES = [
    # A: detected after 10 minutes, acknowledged after 5 more, resolved 130 after the start
    ("SEV1", moment(1, 5, 10), moment(1, 5, 10, 10), moment(1, 5, 10, 15), moment(1, 5, 12, 10)),
    # B: 2 / 10 / 47
    ("SEV2", moment(1, 20, 8), moment(1, 20, 8, 2), moment(1, 20, 8, 12), moment(1, 20, 8, 47)),
    # C: 30 / 60 / 240
    ("SEV3", moment(2, 14, 0), moment(2, 14, 0, 30), moment(2, 14, 1, 30), moment(2, 14, 4)),
    # D, still open and unacknowledged: 5 / - / -
    ("SEV2", moment(3, 1, 12), moment(3, 1, 12, 5), None, None),
    # Before the period: must not count anywhere.
    (
        "SEV1",
        dt.datetime(2025, 12, 31, 23, tzinfo=UTC),
        dt.datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
        None,
        None,
    ),
]
OWNERS = [(1, (10, 11)), (1, (10,)), (2, (20,)), (1, (11,)), (1, (10,))]
HISTORY = [
    record(*times, team=team, services=services)
    for times, (team, services) in zip(TIMES, OWNERS, strict=True)
]


def counts(sev1=0, sev2=0, sev3=0, sev4=0):
    return {"SEV1": sev1, "SEV2": sev2, "SEV3": sev3, "SEV4": sev4}


EXPECTED_MTTD = DurationStats(
    count=4, mean=dt.timedelta(minutes=11, seconds=45), median=7.5 * MINUTE
)
EXPECTED_MTTA = DurationStats(count=3, mean=25 * MINUTE, median=10 * MINUTE)
EXPECTED_MTTR = DurationStats(count=3, mean=139 * MINUTE, median=130 * MINUTE)
# A to D: 55 days 2 hours over three gaps.
EXPECTED_MTBF = dt.timedelta(days=18, hours=8, minutes=40)


class TestMetricsOfAFixedHistory:
    @pytest.fixture
    def metrics(self):
        return incident_metrics(HISTORY, start=START, end=END)

    def test_only_incidents_started_in_the_period_count(self, metrics):
        assert metrics.count == 4

    def test_time_to_detect_mean_and_median(self, metrics):
        assert metrics.mttd == EXPECTED_MTTD

    def test_time_to_acknowledge_leaves_out_the_unacknowledged(self, metrics):
        assert metrics.mtta == EXPECTED_MTTA

    def test_time_to_restore_runs_from_start_to_resolution(self, metrics):
        assert metrics.mttr == EXPECTED_MTTR

    def test_mtbf_is_the_mean_gap_between_consecutive_starts(self, metrics):
        assert metrics.mtbf == EXPECTED_MTBF

    def test_mtbf_per_service_counts_an_incident_for_each_service_it_hit(self, metrics):
        assert metrics.mtbf_by_service == {
            10: dt.timedelta(days=14, hours=22),
            11: dt.timedelta(days=55, hours=2),
            20: None,
        }

    def test_mtbf_per_team(self, metrics):
        assert metrics.mtbf_by_team == {1: dt.timedelta(days=27, hours=13), 2: None}

    def test_counts_by_severity_per_month_include_every_month(self, metrics):
        assert metrics.by_month == {
            dt.date(2026, 1, 1): counts(sev1=1, sev2=1),
            dt.date(2026, 2, 1): counts(sev3=1),
            dt.date(2026, 3, 1): counts(sev2=1),
        }

    def test_counts_by_severity_per_service_and_team(self, metrics):
        assert metrics.by_service == {
            10: counts(sev1=1, sev2=1),
            11: counts(sev1=1, sev2=1),
            20: counts(sev3=1),
        }
        assert metrics.by_team == {1: counts(sev1=1, sev2=2), 2: counts(sev3=1)}


class TestBuildingBlocks:
    def test_no_durations_give_no_figures_rather_than_zero(self):
        assert duration_stats([]) == DurationStats(count=0, mean=None, median=None)

    def test_the_median_of_an_odd_count_is_the_middle_value(self):
        stats = duration_stats([9 * MINUTE, 1 * MINUTE, 2 * MINUTE])
        assert (stats.mean, stats.median) == (4 * MINUTE, 2 * MINUTE)

    def test_mtbf_needs_two_incidents(self):
        assert mean_time_between_failures([START]) is None
        assert mean_time_between_failures([START + MINUTE, START]) == MINUTE

    def test_months_cross_the_year_end(self):
        start, end = dt.datetime(2025, 11, 15, tzinfo=UTC), dt.datetime(2026, 2, 1, tzinfo=UTC)
        assert month_starts(start, end) == [
            dt.date(2025, 11, 1),
            dt.date(2025, 12, 1),
            dt.date(2026, 1, 1),
        ]

    def test_months_follow_the_given_time_zone(self):
        # Midnight UTC on 1 February is still January in New York.
        start, end = dt.datetime(2026, 2, 1, tzinfo=UTC), dt.datetime(2026, 2, 2, tzinfo=UTC)
        assert month_starts(start, end, ZoneInfo("America/New_York")) == [
            dt.date(2026, 1, 1),
            dt.date(2026, 2, 1),
        ]

    @pytest.mark.parametrize(
        ("end", "months", "start"),
        [
            (dt.datetime(2026, 3, 10, 12, 30, tzinfo=UTC), 3, dt.datetime(2026, 1, 1, tzinfo=UTC)),
            (dt.datetime(2026, 1, 31, 23, 59, tzinfo=UTC), 3, dt.datetime(2025, 11, 1, tzinfo=UTC)),
            (dt.datetime(2026, 3, 10, tzinfo=UTC), 24, dt.datetime(2024, 4, 1, tzinfo=UTC)),
            (dt.datetime(2026, 12, 1, tzinfo=UTC), 12, dt.datetime(2026, 1, 1, tzinfo=UTC)),
        ],
    )
    def test_a_period_of_n_months_starts_n_minus_one_months_before_the_current_one(
        self, end, months, start
    ):
        assert period_start(end, months) == start


class TestMetricsAsJSON:
    """The snapshots store the figures as JSON: what comes back equals what went in."""

    def round_trip(self, metrics: IncidentMetrics) -> IncidentMetrics:
        return metrics_from_json(json.loads(json.dumps(metrics_to_json(metrics))))

    def test_the_figures_of_a_history_come_back_unchanged(self):
        metrics = incident_metrics(HISTORY, start=START, end=END)
        assert self.round_trip(metrics) == metrics

    def test_durations_keep_their_microseconds_and_missing_figures_stay_missing(self):
        odd = dt.timedelta(days=400, seconds=7, microseconds=123457)
        metrics = IncidentMetrics(
            count=3,
            mttd=DurationStats(count=1, mean=odd, median=odd / 2),
            mtta=DurationStats(count=0, mean=None, median=None),
            mttr=DurationStats(count=3, mean=MINUTE / 3, median=MINUTE),
            mtbf=None,
            mtbf_by_service={7: odd, 8: None},
            mtbf_by_team={3: None},
            by_month={dt.date(2026, 2, 1): counts(sev4=3)},
            by_service={7: counts(sev4=2), 8: counts(sev4=1)},
            by_team={3: counts(sev4=3)},
        )
        assert self.round_trip(metrics) == metrics

    def test_months_come_back_in_calendar_order_whatever_the_stored_order(self):
        data = metrics_to_json(incident_metrics(HISTORY, start=START, end=END))
        data["by_month"] = dict(reversed(data["by_month"].items()))
        assert list(metrics_from_json(data).by_month) == [
            dt.date(2026, 1, 1),
            dt.date(2026, 2, 1),
            dt.date(2026, 3, 1),
        ]


@pytest.mark.django_db
class TestMetricsFromTheDatabase:
    @pytest.fixture
    def history(self):
        """The history as incidents, with real teams and services standing in for
        the ids."""
        teams = {1: TeamFactory(), 2: TeamFactory()}
        services = {
            10: ServiceFactory(owner_team=teams[1]),
            11: ServiceFactory(owner_team=teams[1]),
            20: ServiceFactory(owner_team=teams[2]),
        }
        for (severity, started, detected, acknowledged, resolved), (team, hit) in zip(
            TIMES, OWNERS, strict=True
        ):
            IncidentFactory(
                severity=severity,
                started_at=started,
                detected_at=detected,
                acknowledged_at=acknowledged,
                mitigated_at=resolved,
                resolved_at=resolved,
                status="resolved" if resolved else "investigating",
                team=teams[team],
                services=[services[service_id] for service_id in hit],
            )
        return teams, services

    def test_the_selector_reads_the_same_figures_in_two_queries(
        self, history, django_assert_num_queries
    ):
        teams, services = history
        with django_assert_num_queries(2):
            metrics, service_names, team_names = incident_metrics_for_period(start=START, end=END)
        assert (metrics.mttd, metrics.mtta, metrics.mttr) == (
            EXPECTED_MTTD,
            EXPECTED_MTTA,
            EXPECTED_MTTR,
        )
        assert metrics.mtbf == EXPECTED_MTBF
        assert metrics.by_team == {teams[1].pk: counts(sev1=1, sev2=2), teams[2].pk: counts(sev3=1)}
        assert service_names == {service.pk: service.name for service in services.values()}
        assert team_names == {team.pk: team.name for team in teams.values()}

    def test_the_selector_narrows_to_the_given_incidents(self, history):
        teams, _ = history
        metrics, _, _ = incident_metrics_for_period(
            start=START, end=END, incidents=teams[2].incidents.all()
        )
        assert metrics.count == 1
        assert metrics.mttr == DurationStats(count=1, mean=240 * MINUTE, median=240 * MINUTE)
