"""OpenSLO v1 import and export: the samples, re-imports, round trips, errors that write
nothing, the management commands and the API."""

import io
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from services.actions.slos import maintenance_window_create, slo_create
from services.backstage.sources import Source
from services.choices import BudgetingMethod, QueryKind, SLIKind, WindowKind
from services.models.slos import SLO, BudgetPolicy
from services.openslo.documents import OpenSLOError, OpenSLOPermissionError
from services.openslo.exporter import export_yaml, slos_for_export
from services.openslo.importer import import_sources
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "openslo"
PAYMENTS = "payments.yaml"
SEARCH = "search.yaml"
OPENSLO = "/api/slos/openslo/"
GOOD_QUERY = 'sum(rate(http_requests_total{job="payments-api",code!~"5.."}[{{.window}}]))'
TOTAL_QUERY = 'sum(rate(http_requests_total{job="payments-api"}[{{.window}}]))'

# The definition fields an export must carry and an import must restore.
DEFINITION_FIELDS = (
    "name",
    "description",
    "sli_kind",
    "objective",
    "window_kind",
    "window_days",
    "time_zone",
    "budgeting_method",
    "slice_minutes",
    "slice_target",
    "query_kind",
    "events_query",
    "total_query",
    "labels",
    "budget_policy_id",
)


def sample(name: str) -> Source:
    return Source(name=name, text=(SAMPLES / name).read_text())


def payments_with(*replacements: tuple[str, str]) -> Source:
    """The payments sample, edited as the team would edit its file."""
    text = (SAMPLES / PAYMENTS).read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    return Source(name=PAYMENTS, text=text)


def definitions() -> dict[tuple[str, str], dict]:
    return {
        (slo.service.slug, slo.slug): {name: getattr(slo, name) for name in DEFINITION_FIELDS}
        for slo in SLO.objects.select_related("service")
    }


def row_counts() -> dict[str, int]:
    return {"slos": SLO.objects.count(), "slo history": SLO.history.count()}


@pytest.fixture
def search_index(search_team):
    return ServiceFactory(name="Search index", slug="search-index", owner_team=search_team)


@pytest.fixture
def imported(service):
    return import_sources([sample(PAYMENTS)])


class TestImport:
    def test_a_rolling_occurrences_slo_is_created_as_the_document_describes_it(self, imported):
        slo = SLO.objects.get(service__slug="payments-api", slug="availability")

        assert slo.name == "Checkout availability"
        assert slo.description == "Checkout requests that do not fail on our side."
        assert slo.sli_kind == SLIKind.AVAILABILITY
        assert slo.labels == {"team": "payments", "tier": "1"}
        assert slo.objective == Decimal("99.9")
        assert (slo.window_kind, slo.window_days, slo.time_zone) == (WindowKind.ROLLING, 28, "UTC")
        assert slo.budgeting_method == BudgetingMethod.OCCURRENCES
        assert (slo.slice_minutes, slo.slice_target) == (None, None)
        assert slo.query_kind == QueryKind.GOOD_TOTAL
        assert (slo.events_query, slo.total_query) == (GOOD_QUERY, TOTAL_QUERY)
        assert slo.budget_policy is None

    def test_a_calendar_timeslices_slo_takes_its_indicator_from_the_sli_it_references(
        self, imported
    ):
        slo = SLO.objects.get(service__slug="payments-api", slug="latency")

        assert slo.name == "Payment latency"
        assert slo.sli_kind == SLIKind.LATENCY
        assert (slo.window_kind, slo.time_zone) == (WindowKind.CALENDAR_MONTH, "Europe/Paris")
        assert slo.budgeting_method == BudgetingMethod.TIMESLICES
        assert slo.objective == Decimal("99")
        assert (slo.slice_minutes, slo.slice_target) == (5, Decimal("95"))
        assert slo.query_kind == QueryKind.BAD_TOTAL
        assert slo.events_query.startswith("sum(rate(payment_duration_seconds_count")
        assert slo.total_query == (
            'sum(rate(payment_duration_seconds_count{job="payments-api"}[{{.window}}]))'
        )

    def test_the_report_lists_the_slos_created_and_reads_past_other_kinds(self, imported):
        assert imported.as_dict() == {
            "created": ["payments-api/availability", "payments-api/latency"],
            "updated": [],
            "unchanged": [],
        }
        assert SLO.objects.count() == 2

    def test_several_files_are_imported_in_one_call(self, service, search_index):
        report = import_sources([sample(PAYMENTS), sample(SEARCH)])

        assert report.created == [
            "payments-api/availability",
            "payments-api/latency",
            "search-index/query-success",
        ]
        slo = SLO.objects.get(slug="query-success")
        assert (slo.service, slo.name, slo.window_days) == (search_index, "Query success", 28)
        assert slo.objective == Decimal("99.5")

    def test_an_sli_may_live_in_another_file_of_the_same_import(self, service):
        slos_only = payments_with((sli_document() + "---\n", ""))

        report = import_sources([slos_only, Source("slis.yaml", sli_document())])

        assert report.created == ["payments-api/availability", "payments-api/latency"]
        assert SLO.objects.get(slug="latency").query_kind == QueryKind.BAD_TOTAL

    def test_importing_the_same_file_again_changes_and_duplicates_nothing(self, imported):
        before, counts = definitions(), row_counts()

        report = import_sources([sample(PAYMENTS)])

        assert report.unchanged == ["payments-api/availability", "payments-api/latency"]
        assert (report.created, report.updated) == ([], [])
        assert definitions() == before
        assert row_counts() == counts

    def test_a_changed_file_updates_its_slos_in_place(self, imported):
        availability = SLO.objects.get(slug="availability")

        report = import_sources(
            [
                payments_with(
                    ("targetPercent: 99.9", "targetPercent: 99.95"),
                    ("duration: 28d", "duration: 30d"),
                )
            ]
        )

        assert report.updated == ["payments-api/availability"]
        assert report.unchanged == ["payments-api/latency"]
        availability.refresh_from_db()
        assert (availability.objective, availability.window_days) == (Decimal("99.95"), 30)
        assert SLO.objects.count() == 2

    def test_a_re_import_keeps_the_maintenance_windows_planned_in_the_portal(self, imported):
        slo = SLO.objects.get(slug="availability")
        window = maintenance_window_create(
            slo=slo,
            start=datetime(2026, 3, 1, 22, tzinfo=UTC),
            end=datetime(2026, 3, 1, 23, tzinfo=UTC),
            reason="Database upgrade",
        )

        import_sources([payments_with(("targetPercent: 99.9", "targetPercent: 99.5"))])

        assert list(slo.maintenance_windows.all()) == [window]

    def test_an_slo_made_in_the_portal_is_updated_by_slug_not_duplicated(self, service):
        made_here = slo_create(
            service=service,
            name="Availability",
            slug="availability",
            objective=Decimal("99"),
            events_query="sum(rate(ok[{{.window}}]))",
            total_query="sum(rate(all[{{.window}}]))",
        )

        import_sources([sample(PAYMENTS)])

        made_here.refresh_from_db()
        assert (made_here.name, made_here.objective) == ("Checkout availability", Decimal("99.9"))
        assert SLO.objects.filter(slug="availability").count() == 1

    def test_portal_annotations_set_the_budget_policy_and_time_zone(self, service):
        BudgetPolicy.objects.create(name="Strict", slug="strict")
        annotations = (
            "    reliability-portal/sli-kind: availability\n",
            "    reliability-portal/sli-kind: correctness\n"
            "    reliability-portal/budget-policy: strict\n"
            "    reliability-portal/time-zone: America/New_York\n",
        )

        import_sources([payments_with(annotations)])

        slo = SLO.objects.select_related("budget_policy").get(slug="availability")
        assert (slo.sli_kind, slo.budget_policy.slug) == (SLIKind.CORRECTNESS, "strict")
        assert slo.time_zone == "America/New_York"

    def test_label_value_lists_are_joined_with_commas(self, service):
        import_sources([payments_with(("    team: payments\n", "    team: [payments, billing]\n"))])

        slo = SLO.objects.get(slug="availability")
        assert slo.labels == {"team": "payments,billing", "tier": "1"}

    def test_an_engineer_imports_the_slos_of_their_own_team(self, service, teammate):
        report = import_sources([sample(PAYMENTS)], user=teammate)

        assert len(report.created) == 2

    def test_an_engineer_of_another_team_imports_nothing(self, service, outsider):
        with pytest.raises(OpenSLOPermissionError) as error:
            import_sources([sample(PAYMENTS)], user=outsider)

        assert str(error.value) == (
            "payments.yaml, document 2 (SLO availability): spec.service: "
            "you cannot edit the SLOs of payments-api"
        )
        assert SLO.objects.count() == 0


class TestExport:
    @pytest.fixture
    def varied_slos(self, imported, service):
        """The samples plus SLOs made in the portal with what the samples leave out."""
        policy = BudgetPolicy.objects.create(name="Strict", slug="strict")
        slo_create(
            service=service,
            name="Refund errors",
            slug="refund-errors",
            description="Refunds that fail.\nCounted by the ledger.",
            sli_kind=SLIKind.ERROR_RATE,
            objective=Decimal("99.9999"),
            window_days=7,
            time_zone="Asia/Tokyo",
            query_kind=QueryKind.BAD_TOTAL,
            events_query='sum(rate(refunds_total{outcome="error"}[{{.window}}]))',
            total_query="sum(rate(refunds_total[{{.window}}]))",
            labels={"team": "payments", "owner": "ledger"},
            budget_policy=policy,
        )
        slo_create(
            service=service,
            name="Settlement slices",
            slug="settlement-slices",
            sli_kind=SLIKind.THROUGHPUT,
            objective=Decimal("95.5"),
            window_kind=WindowKind.CALENDAR_MONTH,
            time_zone="UTC",
            budgeting_method=BudgetingMethod.TIMESLICES,
            slice_minutes=60,
            slice_target=Decimal("99.25"),
            events_query="sum(rate(settled_total[{{.window}}]))",
            total_query="sum(rate(settlements_total[{{.window}}]))",
        )

    def test_an_export_imports_back_to_identical_definitions(self, varied_slos):
        before = definitions()
        text = export_yaml(slos_for_export())
        SLO.objects.all().delete()

        report = import_sources([Source("export.yaml", text)])

        assert len(report.created) == 4
        assert definitions() == before

    def test_an_export_imported_over_its_own_slos_changes_nothing(self, varied_slos):
        before, counts = definitions(), row_counts()

        report = import_sources([Source("export.yaml", export_yaml(slos_for_export()))])

        assert len(report.unchanged) == 4
        assert definitions() == before
        assert row_counts() == counts

    def test_each_slo_is_one_openslo_v1_document_with_an_inline_ratio_indicator(self, imported):
        documents = list(yaml.safe_load_all(export_yaml(slos_for_export())))

        assert [document["metadata"]["name"] for document in documents] == [
            "availability",
            "latency",
        ]
        availability = documents[0]
        assert availability["apiVersion"] == "openslo/v1"
        assert availability["kind"] == "SLO"
        assert availability["spec"]["service"] == "payments-api"
        ratio = availability["spec"]["indicator"]["spec"]["ratioMetric"]
        assert ratio["good"]["metricSource"] == {
            "type": "Prometheus",
            "spec": {"query": GOOD_QUERY},
        }
        assert ratio["total"]["metricSource"]["spec"]["query"] == TOTAL_QUERY
        assert availability["spec"]["timeWindow"] == [{"duration": "28d", "isRolling": True}]
        assert availability["spec"]["objectives"][0]["target"] == 0.999
        latency = documents[1]
        assert latency["spec"]["timeWindow"][0]["calendar"]["timeZone"] == "Europe/Paris"
        assert latency["spec"]["budgetingMethod"] == "Timeslices"
        objective = latency["spec"]["objectives"][0]
        assert (objective["timeSliceTarget"], objective["timeSliceWindow"]) == (0.95, "5m")
        assert "bad" in latency["spec"]["indicator"]["spec"]["ratioMetric"]

    def test_an_export_for_one_service_holds_only_its_slos(self, imported, search_index):
        import_sources([sample(SEARCH)])

        documents = list(yaml.safe_load_all(export_yaml(slos_for_export("search-index"))))

        assert [document["metadata"]["name"] for document in documents] == ["query-success"]


def sli_document() -> str:
    """The SLI document of the payments sample."""
    text = (SAMPLES / PAYMENTS).read_text()
    start = text.index("apiVersion: openslo/v1\nkind: SLI")
    return text[start : text.index("---", start)]


def malformed() -> Source:
    return sample("malformed.yaml")


ERRORS = {
    "malformed YAML": (
        malformed,
        "malformed.yaml, document 2, line 9: malformed YAML: ",
    ),
    "unknown service": (
        lambda: payments_with(("service: payments-api", "service: billing")),
        "payments.yaml, document 2 (SLO availability): spec.service: "
        "no service “billing” in the catalog",
    ),
    "missing total": (
        lambda: payments_with(
            (
                "        total:\n"
                "          metricSource:\n"
                "            type: Prometheus\n"
                "            spec:\n"
                '              query: sum(rate(http_requests_total{job="payments-api"}'
                "[{{.window}}]))\n",
                "",
            )
        ),
        "payments.yaml, document 2 (SLO availability): "
        "spec.indicator.spec.ratioMetric.total: is required",
    ),
    "target percent of 100": (
        lambda: payments_with(("targetPercent: 99.9", "targetPercent: 100")),
        "payments.yaml, document 2 (SLO availability): spec.objectives[0].targetPercent: "
        "must be between 0 and 100 (both excluded), got 100",
    ),
    "target above 1": (
        lambda: payments_with(("target: 0.99", "target: 1.5")),
        "payments.yaml, document 4 (SLO latency): spec.objectives[0].target: "
        "must be a fraction between 0 and 1 (both excluded), got 1.5",
    ),
    "target that is not a number": (
        lambda: payments_with(("target: 0.99", "target: high")),
        "payments.yaml, document 4 (SLO latency): spec.objectives[0].target: "
        "“high” is not a number",
    ),
    "target that is not a finite number": (
        lambda: payments_with(("target: 0.99", "target: .nan")),
        "payments.yaml, document 4 (SLO latency): spec.objectives[0].target: “nan” is not a number",
    ),
    "target with more decimals than the portal keeps": (
        lambda: payments_with(("target: 0.99", "target: 0.9876543")),
        "payments.yaml, document 4 (SLO latency): spec.objectives[0].target: "
        "Ensure that there are no more than 4 decimal places.",
    ),
    "target and targetPercent both": (
        lambda: payments_with(("target: 0.99", "target: 0.99\n      targetPercent: 99")),
        "payments.yaml, document 4 (SLO latency): spec.objectives[0]: "
        "needs either target or targetPercent",
    ),
    "no ratio metric": (
        lambda: payments_with(
            ("      ratioMetric:\n        counter: true", "      thresholdMetric:")
        ),
        "payments.yaml, document 2 (SLO availability): spec.indicator.spec.ratioMetric: "
        "is required: the portal imports ratio SLIs (good or bad, and total)",
    ),
    "good and bad both": (
        lambda: payments_with(("    bad:", "    good:\n      x: 1\n    bad:")),
        "payments.yaml, document 3 (SLI slow-payments): spec.ratioMetric: "
        "needs either good or bad events, and total",
    ),
    "another metric source": (
        lambda: payments_with(("type: Prometheus", "type: Datadog")),
        "payments.yaml, document 2 (SLO availability): "
        "spec.indicator.spec.ratioMetric.good.metricSource.type: "
        "“Datadog” is not Prometheus, the one source supported",
    ),
    "query without a window": (
        lambda: payments_with(('code!~"5.."}[{{.window}}]', 'code!~"5.."}[5m]')),
        "payments.yaml, document 2 (SLO availability): "
        "spec.indicator.spec.ratioMetric.good.metricSource.spec.query: "
        "must contain {{.window}} where the range goes (Sloth's form)",
    ),
    "unknown SLI": (
        lambda: payments_with(("indicatorRef: slow-payments", "indicatorRef: fast-payments")),
        "payments.yaml, document 4 (SLO latency): spec.indicatorRef: "
        "no SLI named “fast-payments” in this import",
    ),
    "rolling window in hours": (
        lambda: payments_with(("duration: 28d", "duration: 36h")),
        "payments.yaml, document 2 (SLO availability): spec.timeWindow[0].duration: "
        "a rolling window is a whole number of days, like 28d or 4w",
    ),
    "rolling window longer than a year": (
        lambda: payments_with(("duration: 28d", "duration: 400d")),
        "payments.yaml, document 2 (SLO availability): spec.timeWindow[0].duration: "
        "Ensure this value is less than or equal to 366.",
    ),
    "rolling window beyond any calendar": (
        lambda: payments_with(("duration: 28d", "duration: 99999999999d")),
        "payments.yaml, document 2 (SLO availability): spec.timeWindow[0].duration: "
        "“99999999999d” is far too long",
    ),
    "rolling window of months": (
        lambda: payments_with(("duration: 28d", "duration: 1M")),
        "payments.yaml, document 2 (SLO availability): spec.timeWindow[0].duration: "
        "a rolling window is a whole number of days, like 28d or 4w",
    ),
    "calendar quarter": (
        lambda: payments_with(("duration: 1M", "duration: 1Q")),
        "payments.yaml, document 4 (SLO latency): spec.timeWindow[0].duration: "
        "a calendar window is one month: 1M",
    ),
    "unknown time zone": (
        lambda: payments_with(("timeZone: Europe/Paris", "timeZone: Mars/Olympus")),
        "payments.yaml, document 4 (SLO latency): spec.timeWindow[0].calendar.timeZone: "
        "Unknown time zone “Mars/Olympus”.",
    ),
    "budgeting method": (
        lambda: payments_with(("budgetingMethod: Occurrences", "budgetingMethod: Sometimes")),
        "payments.yaml, document 2 (SLO availability): spec.budgetingMethod: "
        "must be one of Occurrences, Timeslices",
    ),
    "timeslices without a slice window": (
        lambda: payments_with(("      timeSliceWindow: 5m\n", "")),
        "payments.yaml, document 4 (SLO latency): spec.objectives[0].timeSliceWindow: is required",
    ),
    "slice window off the bucket grid": (
        lambda: payments_with(("timeSliceWindow: 5m", "timeSliceWindow: 7m")),
        "payments.yaml, document 4 (SLO latency): spec.objectives[0].timeSliceWindow: "
        "Must be a multiple of 5 minutes.",
    ),
    "slices for occurrences": (
        lambda: payments_with(
            ("targetPercent: 99.9", "targetPercent: 99.9\n      timeSliceWindow: 5m")
        ),
        "payments.yaml, document 2 (SLO availability): spec.objectives[0].timeSliceWindow: "
        "is only for budgetingMethod Timeslices",
    ),
    "two objectives": (
        lambda: payments_with(
            ("      targetPercent: 99.9\n", "      targetPercent: 99.9\n    - target: 0.99\n")
        ),
        "payments.yaml, document 2 (SLO availability): spec.objectives: must hold exactly one "
        "objective: the portal keeps one per SLO, so give each further objective an SLO of its own",
    ),
    "unknown SLI kind": (
        lambda: payments_with(("sli-kind: latency", "sli-kind: vibes")),
        "payments.yaml, document 4 (SLO latency): "
        "metadata.annotations.reliability-portal/sli-kind: "
        "Value 'vibes' is not a valid choice.",
    ),
    "unknown budget policy": (
        lambda: payments_with(
            ("sli-kind: latency", "sli-kind: latency\n    reliability-portal/budget-policy: lax")
        ),
        "payments.yaml, document 4 (SLO latency): "
        "metadata.annotations.reliability-portal/budget-policy: no budget policy “lax”",
    ),
    "older api version": (
        lambda: payments_with(
            ("apiVersion: openslo/v1\nkind: SLO", "apiVersion: openslo/v1alpha\nkind: SLO")
        ),
        "payments.yaml, document 2 (SLO availability): apiVersion: "
        "“openslo/v1alpha” is not openslo/v1",
    ),
    "unknown kind": (
        lambda: payments_with(("kind: Service", "kind: Dashboard")),
        "payments.yaml, document 1 (Dashboard payments-api): kind: "
        "“Dashboard” is not an OpenSLO v1 kind",
    ),
    "the same sli twice": (
        lambda: Source(PAYMENTS, payments_with().text + "---\n" + sli_document()),
        "payments.yaml, document 5 (SLI slow-payments): metadata.name: the SLI "
        "“slow-payments” is also defined by payments.yaml, document 3 (SLI slow-payments)",
    ),
    "the same slo twice": (
        lambda: payments_with(("name: latency", "name: availability")),
        "payments.yaml, document 4 (SLO availability): metadata.name: payments-api already "
        "has this SLO from payments.yaml, document 2 (SLO availability)",
    ),
}


class TestImportErrors:
    @pytest.mark.parametrize("make_source, message", ERRORS.values(), ids=ERRORS.keys())
    def test_a_bad_document_writes_nothing_and_names_file_document_and_field(
        self, service, make_source, message
    ):
        counts = row_counts()

        with pytest.raises(OpenSLOError) as error:
            import_sources([make_source()])

        assert str(error.value).startswith(message)
        assert row_counts() == counts

    def test_an_error_found_while_writing_rolls_back_the_slos_written_before_it(
        self, service, search_index
    ):
        counts = row_counts()
        slow_slices = Source(
            "search.yaml",
            sample(SEARCH)
            .text.replace("Occurrences", "Timeslices")
            .replace(
                "- target: 0.995",
                "- target: 0.995\n      timeSliceTarget: 0.9\n      timeSliceWindow: 1m",
            ),
        )

        with pytest.raises(OpenSLOError) as error:
            import_sources([sample(PAYMENTS), slow_slices])

        assert str(error.value) == (
            "search.yaml, document 1 (SLO query-success): spec.objectives[0].timeSliceWindow: "
            "Must be a multiple of 5 minutes."
        )
        assert row_counts() == counts

    def test_a_re_import_that_fails_leaves_the_slos_as_they_were(self, imported):
        before, counts = definitions(), row_counts()
        changed_then_broken = payments_with(
            ("targetPercent: 99.9", "targetPercent: 99.5"),
            ("timeZone: Europe/Paris", "timeZone: Nowhere/Else"),
        )

        with pytest.raises(OpenSLOError):
            import_sources([changed_then_broken])

        assert definitions() == before
        assert row_counts() == counts


class TestCommands:
    def test_import_prints_what_changed(self, service):
        stdout = io.StringIO()

        call_command("import_openslo", str(SAMPLES / PAYMENTS), stdout=stdout)

        assert stdout.getvalue().splitlines() == [
            "2 created, 0 updated, 0 unchanged",
            "created payments-api/availability",
            "created payments-api/latency",
        ]

    def test_import_of_a_bad_file_raises_a_command_error_and_writes_nothing(self, service):
        with pytest.raises(CommandError, match="Nothing was imported"):
            call_command("import_openslo", str(SAMPLES / PAYMENTS), str(SAMPLES / "malformed.yaml"))

        assert SLO.objects.count() == 0

    def test_import_of_a_bad_file_exits_non_zero_with_the_message_on_stderr(self, service, capsys):
        path = str(SAMPLES / "malformed.yaml")

        # The command line closes the database connection when it ends: assert nothing after.
        with pytest.raises(SystemExit) as exit:
            ManagementUtility(["manage.py", "import_openslo", path]).execute()

        assert exit.value.code == 1
        stderr = capsys.readouterr().err
        assert stderr.startswith(f"CommandError: {path}, document 2, line 9: malformed YAML:")
        assert stderr.rstrip().endswith("Nothing was imported.")

    def test_import_of_a_missing_file_names_it(self, tmp_path):
        with pytest.raises(CommandError, match=r"absent\.yaml: cannot read it"):
            call_command("import_openslo", str(tmp_path / "absent.yaml"))

    def test_export_writes_every_slo_as_a_yaml_stream(self, imported):
        stdout = io.StringIO()

        call_command("export_openslo", stdout=stdout)

        documents = list(yaml.safe_load_all(stdout.getvalue()))
        assert [(doc["spec"]["service"], doc["metadata"]["name"]) for doc in documents] == [
            ("payments-api", "availability"),
            ("payments-api", "latency"),
        ]

    def test_export_of_one_service(self, imported, search_index):
        import_sources([sample(SEARCH)])
        stdout = io.StringIO()

        call_command("export_openslo", "--service", "search-index", stdout=stdout)

        documents = list(yaml.safe_load_all(stdout.getvalue()))
        assert [doc["metadata"]["name"] for doc in documents] == ["query-success"]

    def test_export_of_an_unknown_service_exits_non_zero(self, capsys):
        with pytest.raises(SystemExit) as exit:
            ManagementUtility(["manage.py", "export_openslo", "--service", "nope"]).execute()

        assert exit.value.code == 1
        assert capsys.readouterr().err == "CommandError: No service with the slug “nope”.\n"


@pytest.fixture
def users(owner, teammate, outsider, viewer, sre_lead):
    return {
        "owner": owner,
        "teammate": teammate,
        "outsider": outsider,
        "viewer": viewer,
        "sre_lead": sre_lead,
    }


class TestAPI:
    def test_anonymous_requests_are_refused(self):
        for method in ("get", "post"):
            response = getattr(APIClient(), method)(OPENSLO)
            assert response.status_code == 401
            assert response["WWW-Authenticate"] == "Token"

    @pytest.mark.parametrize("role", ["owner", "teammate", "outsider", "viewer", "sre_lead"])
    def test_everyone_signed_in_downloads_the_documents(
        self, imported, users, api_client_for, role
    ):
        response = api_client_for(users[role]).get(OPENSLO)

        assert response.status_code == 200
        assert response["Content-Type"] == "text/yaml; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="all-openslo.yaml"'
        documents = list(yaml.safe_load_all(response.content))
        assert [document["metadata"]["name"] for document in documents] == [
            "availability",
            "latency",
        ]

    def test_the_download_of_one_service(self, imported, search_index, owner, api_client_for):
        import_sources([sample(SEARCH)])

        response = api_client_for(owner).get(OPENSLO, {"service": "search-index"})

        assert response["Content-Disposition"] == (
            'attachment; filename="search-index-openslo.yaml"'
        )
        documents = list(yaml.safe_load_all(response.content))
        assert [document["metadata"]["name"] for document in documents] == ["query-success"]

    def test_an_unknown_service_is_a_400_naming_the_parameter(self, owner, api_client_for):
        response = api_client_for(owner).get(OPENSLO, {"service": "nope"})

        assert response.status_code == 400
        assert response.json() == {"service": ["No service with the slug “nope”."]}

    @pytest.mark.parametrize("count", [2, 20])
    def test_the_download_takes_the_same_few_queries_for_any_number_of_slos(
        self, service, owner, api_client_for, django_assert_max_num_queries, count
    ):
        for number in range(count):
            slo_create(
                service=service,
                name=f"SLO {number}",
                slug=f"slo-{number}",
                objective=Decimal("99.9"),
                events_query=GOOD_QUERY,
                total_query=TOTAL_QUERY,
            )
        client = api_client_for(owner)

        # Token and user, the service check, the SLOs with service and policy.
        with django_assert_max_num_queries(3):
            response = client.get(OPENSLO, {"service": "payments-api"})

        assert len(list(yaml.safe_load_all(response.content))) == count

    @pytest.mark.parametrize("role", ["owner", "teammate", "sre_lead"])
    def test_those_who_edit_the_team_import_a_yaml_body(self, service, users, api_client_for, role):
        response = api_client_for(users[role]).post(
            OPENSLO, (SAMPLES / PAYMENTS).read_bytes(), content_type="application/yaml"
        )

        assert response.status_code == 200
        assert response.json() == {
            "created": ["payments-api/availability", "payments-api/latency"],
            "updated": [],
            "unchanged": [],
        }
        assert SLO.objects.count() == 2

    @pytest.mark.parametrize(
        ("role", "detail"),
        [
            (
                "outsider",
                "request body, document 2 (SLO availability): spec.service: "
                "you cannot edit the SLOs of payments-api",
            ),
            # Someone who edits no team's records is refused before the body is read.
            ("viewer", "Only engineers and SRE leads import SLOs."),
        ],
    )
    def test_others_are_refused_and_nothing_is_written(
        self, service, users, api_client_for, role, detail
    ):
        response = api_client_for(users[role]).post(
            OPENSLO, (SAMPLES / PAYMENTS).read_bytes(), content_type="application/yaml"
        )

        assert response.status_code == 403
        assert response.json() == {"detail": detail}
        assert SLO.objects.count() == 0

    def test_a_viewer_is_refused_even_documents_that_import_nothing(
        self, service, users, api_client_for
    ):
        response = api_client_for(users["viewer"]).post(
            OPENSLO, "kind: Nothing\n", content_type="application/yaml"
        )

        assert response.status_code == 403

    def test_files_are_uploaded_as_multipart(self, service, search_index, sre_lead, api_client_for):
        with (SAMPLES / PAYMENTS).open("rb") as payments, (SAMPLES / SEARCH).open("rb") as search:
            response = api_client_for(sre_lead).post(
                OPENSLO, {"file": [payments, search]}, format="multipart"
            )

        assert response.status_code == 200
        assert len(response.json()["created"]) == 3

    def test_a_bad_document_is_a_400_naming_file_document_and_field(
        self, service, owner, api_client_for
    ):
        with (SAMPLES / "malformed.yaml").open("rb") as malformed_file:
            response = api_client_for(owner).post(
                OPENSLO, {"file": [malformed_file]}, format="multipart"
            )

        assert response.status_code == 400
        detail = response.json()["detail"]
        assert detail.startswith("malformed.yaml, document 2, line 9: malformed YAML:")
        assert detail.endswith("Nothing was imported.")
        assert SLO.objects.count() == 0

    def test_an_empty_body_is_a_400_saying_what_to_send(self, owner, api_client_for):
        response = api_client_for(owner).post(OPENSLO, b"", content_type="application/yaml")

        assert response.status_code == 400
        assert response.json() == {
            "detail": "Send the YAML as the request body or as multipart files “file”."
        }

    def test_a_body_that_is_not_utf8_is_a_400(self, owner, api_client_for):
        response = api_client_for(owner).post(OPENSLO, b"\xff\xfe\x00", content_type="text/yaml")

        assert response.status_code == 400
        assert response.json() == {"detail": "request body: not UTF-8 text"}

    def test_the_interchange_endpoints_are_in_the_openapi_schema_without_warnings(
        self, owner, api_client_for
    ):
        GENERATOR_STATS.reset()

        schema = api_client_for(owner).get("/api/schema/", {"format": "json"}).json()

        assert {"get", "post"} <= set(schema["paths"][OPENSLO])
        assert "get" in schema["paths"]["/api/slos/prometheus-rules/"]
        assert [
            message
            for message in GENERATOR_STATS._warn_cache
            if "api/interchange" in message or re.search(r"(PrometheusRules|OpenSLO)View", message)
        ] == []


@pytest.mark.parametrize("body", [b"---\n", b"null"])
def test_a_source_without_documents_is_refused_with_nothing_written(
    db, api_client_for, sre_lead, body
):
    response = api_client_for(sre_lead).post(OPENSLO, body, content_type="application/yaml")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "no OpenSLO document in the sources. Nothing was imported."
    }
