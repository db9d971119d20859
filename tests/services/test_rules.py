"""Prometheus rules for SLOs: their shape, thresholds from the burn-rate rules, promtool's
checks and unit tests (page on a fast burn, not on a slow one), the command and the API."""

import io
import math
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
import yaml
from django.core.management import ManagementUtility, call_command
from rest_framework.test import APIClient

from services.actions.slos import slo_create
from services.budget.figures import BURN_RATE_RULES, PAGE, TICKET, WindowCounts, burn_rate
from services.budget.windows import LOOKBACK_WINDOWS
from services.choices import BudgetingMethod, QueryKind, WindowKind
from services.models.catalog import Service
from services.models.slos import SLO
from services.rules import ALERT_NAME, rules_document, rules_yaml
from tests.servers import find_binary

RULES = "/api/slos/prometheus-rules/"
PORTAL = "http://portal.example.test"
GOOD_QUERY = 'sum(rate(http_requests_total{job="api",code!~"5.."}[{{.window}}]))'
TOTAL_QUERY = 'sum(rate(http_requests_total{job="api"}[{{.window}}]))'
SELECTOR = '{service="payments-api", slo="availability"}'
SERIES_LABELS = '{service="payments-api", slo="availability", team="payments"}'
ROUNDING = 2**-20


def rounded(value: float) -> float:
    """What PromQL's round(value, ROUNDING) gives."""
    return math.floor(value / ROUNDING + 0.5) * ROUNDING


def unsaved_slo(**fields) -> SLO:
    """An SLO of the payments API as rows give it to the rules; nothing is stored."""
    service = Service(
        name="Payments API",
        slug="payments-api",
        runbook_url="https://wiki.example.test/payments/runbook",
    )
    values = {
        "service": service,
        "name": "Availability",
        "slug": "availability",
        "objective": Decimal("99.9"),
        "window_days": 30,
        "events_query": GOOD_QUERY,
        "total_query": TOTAL_QUERY,
        "labels": {"team": "payments"},
    }
    values.update(fields)
    return SLO(**values)


def rules_of(slo: SLO) -> dict[str, dict]:
    """The SLO's rules by recorded metric, alerts by severity."""
    (group,) = rules_document([slo], portal_base_url=PORTAL)["groups"]
    return {rule.get("record") or rule["labels"]["severity"]: rule for rule in group["rules"]}


class TestRules:
    def test_each_slo_gets_one_group_with_error_ratios_burn_rates_budget_and_alerts(self):
        (group,) = rules_document([unsaved_slo()])["groups"]

        assert group["name"] == "slo:payments-api:availability"
        assert [rule.get("record") or rule["alert"] for rule in group["rules"]] == [
            *(f"slo:sli_error:ratio_rate{window}" for window in LOOKBACK_WINDOWS),
            "slo:sli_error:ratio_rate30d",
            "slo:objective:ratio",
            "slo:error_budget:ratio",
            "slo:time_period:days",
            *(f"slo:burn_rate:ratio_rate{window}" for window in LOOKBACK_WINDOWS),
            "slo:period_burn_rate:ratio",
            "slo:period_error_budget_remaining:ratio",
            ALERT_NAME,
            ALERT_NAME,
        ]

    def test_the_window_placeholder_takes_each_look_back_window(self):
        rules = rules_of(unsaved_slo())

        assert rules["slo:sli_error:ratio_rate2h"]["expr"] == (
            "1 - (\n"
            '  (sum(rate(http_requests_total{job="api",code!~"5.."}[2h])))\n'
            "  /\n"
            '  (sum(rate(http_requests_total{job="api"}[2h])))\n'
            ")"
        )

    def test_bad_event_queries_are_the_error_ratio_itself(self):
        slo = unsaved_slo(
            query_kind=QueryKind.BAD_TOTAL,
            events_query='sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
        )

        assert rules_of(slo)["slo:sli_error:ratio_rate5m"]["expr"] == (
            '(sum(rate(http_requests_total{code=~"5.."}[5m])))\n'
            "/\n"
            '(sum(rate(http_requests_total{job="api"}[5m])))'
        )

    def test_budget_metadata_and_burn_rates_follow_the_objective(self):
        rules = rules_of(unsaved_slo(objective=Decimal("99.95")))

        assert rules["slo:objective:ratio"]["expr"] == "vector(0.9995)"
        assert rules["slo:error_budget:ratio"]["expr"] == "vector(0.0005)"
        assert rules["slo:time_period:days"]["expr"] == "vector(30)"
        assert rules["slo:burn_rate:ratio_rate1h"]["expr"] == (
            f"slo:sli_error:ratio_rate1h{SELECTOR} / 0.0005"
        )
        assert rules["slo:period_error_budget_remaining:ratio"]["expr"] == (
            f"1 - slo:period_burn_rate:ratio{SELECTOR}"
        )

    def test_the_whole_window_ratio_averages_the_five_minute_ratios_over_the_window(self):
        rules = rules_of(unsaved_slo(window_days=28))

        assert rules["slo:sli_error:ratio_rate28d"]["expr"] == (
            f"sum_over_time(slo:sli_error:ratio_rate5m{SELECTOR}[28d])\n"
            f"/\ncount_over_time(slo:sli_error:ratio_rate5m{SELECTOR}[28d])"
        )
        assert rules["slo:period_burn_rate:ratio"]["expr"] == (
            f"slo:sli_error:ratio_rate28d{SELECTOR} / 0.001"
        )

    def test_a_thirty_day_window_pages_and_tickets_at_the_sre_workbook_thresholds(self):
        rules = rules_of(unsaved_slo())

        assert rules[PAGE]["expr"] == (
            "(\n"
            f"  slo:burn_rate:ratio_rate1h{SELECTOR} > 14.4\n  and\n"
            f"  slo:burn_rate:ratio_rate5m{SELECTOR} > 14.4\n"
            ")\nor\n(\n"
            f"  slo:burn_rate:ratio_rate6h{SELECTOR} > 6.0\n  and\n"
            f"  slo:burn_rate:ratio_rate30m{SELECTOR} > 6.0\n"
            ")"
        )
        assert "> 3.0" in rules[TICKET]["expr"]
        assert "slo:burn_rate:ratio_rate3d" in rules[TICKET]["expr"]

    @pytest.mark.parametrize("days", [7, 28, 90])
    def test_thresholds_scale_with_the_slo_window_as_the_budget_engine_scales_them(self, days):
        rules = rules_of(unsaved_slo(window_days=days))

        for rule in BURN_RATE_RULES:
            threshold = repr(rule.threshold(timedelta(days=days)))
            condition = (
                f"slo:burn_rate:ratio_rate{rule.long_window}{SELECTOR} > {threshold}\n  and\n"
                f"  slo:burn_rate:ratio_rate{rule.short_window}{SELECTOR} > {threshold}"
            )
            assert condition in rules[rule.severity]["expr"]

    def test_a_calendar_month_is_measured_as_thirty_days(self):
        rules = rules_of(unsaved_slo(window_kind=WindowKind.CALENDAR_MONTH, window_days=7))

        assert rules["slo:time_period:days"]["expr"] == "vector(30)"
        assert "slo:sli_error:ratio_rate30d" in rules
        assert "> 14.4" in rules[PAGE]["expr"]

    def test_series_carry_the_slos_labels_and_the_two_that_identify_it(self):
        slo = unsaved_slo(
            labels={"team": "payments", "slo": "overridden", "not-a-label": "x", "__name__": "y"}
        )

        for rule in rules_of(slo).values():
            if "record" in rule:
                assert rule["labels"] == {
                    "team": "payments",
                    "service": "payments-api",
                    "slo": "availability",
                }

    def test_alerts_say_which_slo_burns_how_fast_and_link_to_it(self):
        rules = rules_of(unsaved_slo())

        page = rules[PAGE]
        assert page["alert"] == ALERT_NAME
        assert page["labels"] == {
            "severity": "page",
            "service": "payments-api",
            "slo": "availability",
        }
        assert page["annotations"] == {
            "summary": "Payments API: Availability is burning its error budget too fast",
            "description": "Availability (99.9 % over 30 days) has spent more than 2 % of its "
            "error budget in the last 1h (burn rate above 14.4 over 1h and 5m) or more than "
            "5 % of its error budget in the last 6h (burn rate above 6 over 6h and 30m). "
            "Page the on-call: at this rate the budget is gone within days.",
            "slo_url": f"{PORTAL}/services/payments-api/slos/availability/",
            "runbook_url": "https://wiki.example.test/payments/runbook",
        }
        assert rules[TICKET]["labels"]["severity"] == "ticket"

    def test_no_slos_make_an_empty_rules_file(self):
        assert rules_yaml([]) == "groups: []\n"


def promtool(*arguments: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [find_binary("promtool"), *arguments], cwd=cwd, capture_output=True, text=True
    )


@pytest.mark.django_db
class TestPromtool:
    @pytest.fixture
    def slos(self, service):
        """SLOs of every shape the rules must handle."""
        shapes = [
            {"slug": "availability", "labels": {"team": "payments", "tier": "1"}},
            {"slug": "refunds", "objective": Decimal("99.9999"), "window_days": 1},
            {
                "slug": "errors",
                "query_kind": QueryKind.BAD_TOTAL,
                "events_query": 'sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
                "window_days": 7,
            },
            {
                "slug": "latency",
                "objective": Decimal("95"),
                "window_kind": WindowKind.CALENDAR_MONTH,
                "time_zone": "Europe/Paris",
                "budgeting_method": BudgetingMethod.TIMESLICES,
                "slice_minutes": 5,
                "slice_target": Decimal("99"),
            },
        ]
        for shape in shapes:
            fields = {
                "name": shape["slug"].title(),
                "objective": Decimal("99.9"),
                "events_query": GOOD_QUERY,
                "total_query": TOTAL_QUERY,
                **shape,
            }
            slo_create(service=service, **fields)

    def test_the_exported_rules_pass_promtool_check_rules(self, slos, tmp_path):
        with (tmp_path / "slo-rules.yaml").open("w") as rules_file:
            call_command("export_prometheus_rules", stdout=rules_file)

        result = promtool("check", "rules", "slo-rules.yaml", cwd=tmp_path)

        assert result.returncode == 0, result.stdout + result.stderr
        # promtool's lint warns on stderr, e.g. of two rules recording the same series.
        assert result.stderr == ""
        assert "SUCCESS: 87 rules found" in result.stdout

    def test_an_empty_rules_file_passes_promtool_check_rules(self, db, tmp_path):
        with (tmp_path / "slo-rules.yaml").open("w") as rules_file:
            call_command("export_prometheus_rules", stdout=rules_file)

        result = promtool("check", "rules", "slo-rules.yaml", cwd=tmp_path)

        assert result.returncode == 0, result.stdout + result.stderr


def requests_per_minute(good: str, errors: str) -> list[dict]:
    """Input series for promtool: counters of requests answered fine and with a 5xx."""
    return [
        {"series": 'http_requests_total{job="api",code="200"}', "values": good},
        {"series": 'http_requests_total{job="api",code="500"}', "values": errors},
    ]


class TestAlertsUnderPromtool:
    """The alerts evaluated by Prometheus's own rule engine over synthetic traffic: a 99.9 %
    SLO over 30 days, 1,000 requests a minute."""

    @pytest.fixture
    def check_alerts(self, tmp_path):
        slo = unsaved_slo()
        (tmp_path / "rules.yaml").write_text(rules_yaml([slo], portal_base_url=PORTAL))
        rules = rules_of(slo)

        def expected(*severities: str) -> list[dict]:
            return [
                {
                    "exp_labels": {
                        "severity": severity,
                        "service": "payments-api",
                        "slo": "availability",
                        "team": "payments",
                    },
                    "exp_annotations": rules[severity]["annotations"],
                }
                for severity in severities
            ]

        def check(
            series: list[dict],
            expectations: dict[str, tuple[str, ...]],
            values: dict[tuple[str, str], float] | None = None,
        ):
            """Alerts expected by evaluation time; `values` of recorded series by
            (evaluation time, metric), both rounded to a power of two (exact in floats) since
            Prometheus and Python reach the same figure through different float operations."""
            tests = {
                "rule_files": ["rules.yaml"],
                "evaluation_interval": "1m",
                "tests": [
                    {
                        "interval": "1m",
                        "input_series": series,
                        "alert_rule_test": [
                            {
                                "eval_time": eval_time,
                                "alertname": ALERT_NAME,
                                "exp_alerts": expected(*severities),
                            }
                            for eval_time, severities in expectations.items()
                        ],
                        "promql_expr_test": [
                            {
                                "expr": f"round({metric}, {ROUNDING!r})",
                                "eval_time": eval_time,
                                "exp_samples": [{"labels": SERIES_LABELS, "value": rounded(value)}],
                            }
                            for (eval_time, metric), value in (values or {}).items()
                        ],
                    }
                ],
            }
            (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
            result = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
            assert result.returncode == 0, result.stdout + result.stderr

        return check

    def test_a_fast_burn_pages(self, check_alerts):
        # 2 % errors: a burn rate of 20, spending 2 % of the budget in 43 minutes. It also
        # exceeds the ticket thresholds; Alertmanager's inhibition keeps the ticket quiet.
        check_alerts(
            requests_per_minute(good="0+980x120", errors="0+20x120"),
            {"10m": (PAGE, TICKET), "1h": (PAGE, TICKET)},
        )

    def test_the_recorded_figures_are_the_budget_engines(self, check_alerts):
        # Two hours at 2 % errors: 1,200 bad of 60,000 in the last hour.
        last_hour = WindowCounts(good=58_800, total=60_000, buckets_present=12, buckets_expected=12)
        burn = burn_rate(last_hour, objective=0.999)
        check_alerts(
            requests_per_minute(good="0+980x120", errors="0+20x120"),
            {"2h": (PAGE, TICKET)},
            {
                ("2h", "slo:sli_error:ratio_rate1h"): 0.02,
                ("2h", "slo:burn_rate:ratio_rate1h"): burn,
                ("2h", "slo:burn_rate:ratio_rate5m"): burn,
                ("2h", "slo:objective:ratio"): 0.999,
                ("2h", "slo:error_budget:ratio"): 0.001,
                ("2h", "slo:time_period:days"): 30,
                # Two hours of data in the 30-day window, all of it burning at 20.
                ("2h", "slo:period_burn_rate:ratio"): burn,
                ("2h", "slo:period_error_budget_remaining:ratio"): 1 - burn,
            },
        )

    def test_a_slow_burn_does_not_page_but_opens_a_ticket(self, check_alerts):
        # 0.2 % errors: a burn rate of 2, the whole budget in 15 days; a ticket, never a page.
        check_alerts(
            requests_per_minute(good="0+998x480", errors="0+2x480"),
            {"1h": (TICKET,), "8h": (TICKET,)},
        )

    def test_a_moderate_burn_opens_a_ticket_from_the_one_day_rule(self, check_alerts):
        # 0.5 % errors: a burn rate of 5, above the one-day ticket threshold of 3, below 6.
        check_alerts(
            requests_per_minute(good="0+995x240", errors="0+5x240"),
            {"3h": (TICKET,)},
        )

    def test_a_burn_within_the_budget_raises_nothing(self, check_alerts):
        # 0.05 % errors: a burn rate of 0.5, half the budget over the window.
        check_alerts(
            requests_per_minute(good="0+9995x240", errors="0+5x240"),
            {"1h": (), "4h": ()},
        )

    def test_the_page_stops_once_the_short_windows_see_the_burn_has_stopped(self, check_alerts):
        # 2 % errors for an hour, then none: the long windows still remember the burn, the
        # 5-minute and 30-minute ones end the page within half an hour.
        check_alerts(
            requests_per_minute(good="0+980x60 59800+1000x59", errors="0+20x60 1200+0x59"),
            {"1h": (PAGE, TICKET), "1h40m": (TICKET,)},
        )


@pytest.mark.django_db
class TestCommand:
    @pytest.fixture
    def two_services(self, service, search_team):
        search = Service.objects.create(
            name="Search index", slug="search-index", owner_team=search_team
        )
        for owner, slug in ((service, "availability"), (search, "query-success")):
            slo_create(
                service=owner,
                name=slug,
                slug=slug,
                objective=Decimal("99.9"),
                events_query=GOOD_QUERY,
                total_query=TOTAL_QUERY,
            )

    def test_the_command_writes_the_rules_of_every_slo(self, two_services, settings):
        settings.PORTAL_BASE_URL = PORTAL
        stdout = io.StringIO()

        call_command("export_prometheus_rules", stdout=stdout)

        assert stdout.getvalue() == rules_yaml(
            SLO.objects.order_by("service__slug", "slug"), portal_base_url=PORTAL
        )
        groups = yaml.safe_load(stdout.getvalue())["groups"]
        assert [group["name"] for group in groups] == [
            "slo:payments-api:availability",
            "slo:search-index:query-success",
        ]

    def test_the_command_writes_one_services_rules(self, two_services):
        stdout = io.StringIO()

        call_command("export_prometheus_rules", "--service", "search-index", stdout=stdout)

        groups = yaml.safe_load(stdout.getvalue())["groups"]
        assert [group["name"] for group in groups] == ["slo:search-index:query-success"]

    def test_an_unknown_service_exits_non_zero_with_a_message(self, capsys):
        with pytest.raises(SystemExit) as exit:
            ManagementUtility(
                ["manage.py", "export_prometheus_rules", "--service", "nope"]
            ).execute()

        assert exit.value.code == 1
        assert capsys.readouterr().err == "CommandError: No service with the slug “nope”.\n"


@pytest.mark.django_db
class TestAPI:
    @pytest.fixture
    def availability(self, service):
        return slo_create(
            service=service,
            name="Availability",
            slug="availability",
            objective=Decimal("99.9"),
            events_query=GOOD_QUERY,
            total_query=TOTAL_QUERY,
        )

    def test_anonymous_requests_are_refused(self, availability):
        response = APIClient().get(RULES)

        assert response.status_code == 401

    @pytest.mark.parametrize("role", ["owner", "teammate", "outsider", "viewer", "sre_lead"])
    def test_everyone_signed_in_downloads_the_rules_file(
        self, availability, request, api_client_for, role
    ):
        response = api_client_for(request.getfixturevalue(role)).get(RULES)

        assert response.status_code == 200
        assert response["Content-Type"] == "text/yaml; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="all-slo-rules.yaml"'
        groups = yaml.safe_load(response.content)["groups"]
        assert [group["name"] for group in groups] == ["slo:payments-api:availability"]

    def test_the_rules_of_one_service(self, availability, search_team, owner, api_client_for):
        Service.objects.create(name="Search", slug="search-index", owner_team=search_team)

        response = api_client_for(owner).get(RULES, {"service": "search-index"})

        assert response["Content-Disposition"] == (
            'attachment; filename="search-index-slo-rules.yaml"'
        )
        assert yaml.safe_load(response.content) == {"groups": []}

    def test_writes_are_not_allowed(self, availability, sre_lead, api_client_for):
        response = api_client_for(sre_lead).post(RULES, {})

        assert response.status_code == 405

    def test_an_unknown_service_is_a_400_naming_the_parameter(self, owner, api_client_for):
        response = api_client_for(owner).get(RULES, {"service": "nope"})

        assert response.status_code == 400
        assert response.json() == {"service": ["No service with the slug “nope”."]}

    @pytest.mark.parametrize("count", [2, 20])
    def test_the_rules_take_the_same_few_queries_for_any_number_of_slos(
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

        # Token and user, the SLOs with their services.
        with django_assert_max_num_queries(2):
            response = client.get(RULES)

        assert len(yaml.safe_load(response.content)["groups"]) == count
