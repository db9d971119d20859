"""The named checks: each one met and not met, the registry's rules, and the facts they read,
gathered in a fixed number of queries."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from services.checks import registry
from services.checks.links import fix_link_for
from services.checks.registry import CheckResult, ReadinessFacts, run_checks
from services.models.slos import BudgetPolicy
from services.selectors.checks import service_facts
from tests.factories import ServiceFactory, TeamFactory, UserFactory
from tests.services.readiness_data import HEALTHY_SLO, NOW, facts
from tests.services.slo_data import make_slo, make_status

CATALOG_CHECKS = {
    "owner_team_has_manager": {"team_has_manager": False},
    "description_present": {"description": "  "},
    "repository_link": {"repository_url": ""},
    "runbook_link": {"runbook_url": ""},
    "dashboard_link": {"dashboard_url": ""},
    "oncall_link": {"oncall_url": ""},
    "pagerduty_service": {"pagerduty_service_id": ""},
    "dependencies_declared": {"dependency_count": 0},
    "personal_data_retention": {"data_retention_days": None},
    "slo_defined": {"slos": ()},
    "availability_slo": {"slos": (replace(HEALTHY_SLO, sli_kind="latency"),)},
    "latency_slo": {"slos": (HEALTHY_SLO,)},
    "slo_data_fresh": {"slos": (replace(HEALTHY_SLO, coverage=0.89),)},
    "budget_policy_applies": {"slos": (replace(HEALTHY_SLO, has_policy=False),)},
    "error_budget_left": {"slos": (replace(HEALTHY_SLO, remaining=-0.01),)},
    "slo_not_paging": {"slos": (replace(HEALTHY_SLO, alert="page"),)},
    "readiness_review_valid": {"readiness": ReadinessFacts()},
    "no_expired_waivers": {
        "readiness": ReadinessFacts(
            approved=True,
            expires_at=NOW + timedelta(days=100),
            waivers_expire_on=date(2026, 11, 19),
        )
    },
}


@pytest.mark.parametrize("name", sorted(CATALOG_CHECKS))
def test_every_catalog_check_is_met_by_a_complete_service(name):
    result = registry.get_check(name).function(facts())

    assert result.passed, result.reason
    assert result.reason


@pytest.mark.parametrize(("name", "changes"), sorted(CATALOG_CHECKS.items()))
def test_every_catalog_check_is_not_met_with_a_reason_and_a_link_to_the_fix(name, changes):
    result = registry.get_check(name).function(facts(**changes))

    assert not result.passed
    assert result.reason
    assert result.fix_url.startswith("/")


def test_every_registered_check_is_one_of_the_tested_ones():
    incident_checks = {
        "postmortems_on_time",
        "action_items_on_time",
        "recent_postmortems_published",
    }
    assert set(registry.check_names()) == set(CATALOG_CHECKS) | incident_checks


@pytest.mark.parametrize(
    ("slo", "reason"),
    [
        (replace(HEALTHY_SLO, computed=False), "not computed yet"),
        (replace(HEALTHY_SLO, stale=True), "stale"),
        (replace(HEALTHY_SLO, coverage=None), "0% coverage"),
    ],
)
def test_slo_data_is_not_fresh_when_never_computed_stale_or_without_coverage(slo, reason):
    result = registry.get_check("slo_data_fresh").function(facts(slos=(HEALTHY_SLO, slo)))

    assert not result.passed
    assert reason in result.reason


def test_coverage_of_exactly_90_percent_is_enough():
    slos = (replace(HEALTHY_SLO, coverage=0.9),)

    assert registry.get_check("slo_data_fresh").function(facts(slos=slos)).passed


def test_a_service_without_personal_data_needs_no_retention():
    check = registry.get_check("personal_data_retention").function

    assert check(facts(handles_personal_data=False, data_retention_days=None)).passed


@pytest.mark.parametrize(
    ("readiness", "reason"),
    [
        (ReadinessFacts(), "No approved readiness review"),
        (
            ReadinessFacts(approved=True, expires_at=NOW - timedelta(days=1)),
            "The approval expired",
        ),
        (
            ReadinessFacts(
                approved=True,
                expires_at=NOW + timedelta(days=9),
                waivers_expire_on=date(2026, 1, 1),
            ),
            "waiver",
        ),
    ],
)
def test_a_readiness_review_is_valid_only_approved_unexpired_and_without_expired_waivers(
    readiness, reason
):
    result = registry.get_check("readiness_review_valid").function(facts(readiness=readiness))

    assert not result.passed
    assert reason in result.reason


def test_a_waiver_expiring_today_has_not_expired():
    readiness = ReadinessFacts(
        approved=True, expires_at=NOW + timedelta(days=9), waivers_expire_on=date(2026, 11, 20)
    )

    assert registry.get_check("readiness_review_valid").function(facts(readiness=readiness)).passed
    assert registry.get_check("no_expired_waivers").function(facts(readiness=readiness)).passed


def test_a_check_that_breaks_counts_as_not_met_and_the_others_still_run(monkeypatch, caplog):
    def broken(service_facts):
        raise RuntimeError("a bug")

    monkeypatch.setitem(registry._CHECKS, "broken", registry.Check("broken", "Broken", broken))

    results = run_checks(facts())

    assert results["broken"] == CheckResult(
        False, "The check could not run; the error is in the portal's log."
    )
    assert results["runbook_link"].passed
    assert "Check broken failed on service ledger" in caplog.text


def test_two_checks_cannot_share_a_name():
    with pytest.raises(ValueError, match="already registered"):
        registry.register_check("runbook_link", "Another")(lambda service_facts: None)


def test_a_result_survives_its_stored_form():
    result = CheckResult(False, "No runbook link.", "/services/x/edit/")

    assert CheckResult.from_json(result.as_json()) == result


@pytest.mark.django_db
def test_a_fix_link_is_kept_for_those_who_may_act_where_it_leads(
    service, owner, outsider, sre_lead, payments
):
    edit = reverse("service_edit", args=[service.slug])
    add_slo = reverse("slo_add", args=[service.slug])
    team = reverse("team_edit", args=[payments.slug])
    policies = reverse("admin:services_budgetpolicy_changelist") + "?is_default=1"
    readiness = reverse("readiness_service", args=[service.slug])
    links = (edit, add_slo, team, policies, readiness)
    expected = {
        owner: [edit, add_slo, "", "", readiness],
        outsider: ["", "", "", "", readiness],
        sre_lead: [edit, add_slo, team, policies, readiness],
    }
    for person, kept in expected.items():
        assert [fix_link_for(person, url, service) for url in links] == kept, person.username
    assert fix_link_for(owner, "", service) == ""
    assert fix_link_for(outsider, "/no/such/page/", service) == "/no/such/page/"


# --- the facts, from the database -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_facts_read_the_catalog_the_slos_and_the_approval(payments, owner):
    if not BudgetPolicy.objects.filter(is_default=True).exists():  # flushed by an earlier test
        BudgetPolicy.objects.create(name="Default", slug="default", is_default=True)
    database = ServiceFactory(owner_team=payments, slug="database")
    service = ServiceFactory(owner_team=payments, slug="ledger", depends_on=[database])
    make_status(make_slo(service, 1, sli_kind="latency"), remaining=-0.2, alert="page")
    make_slo(service, 2)

    found = service_facts([service.pk], now=NOW)[service.pk]

    assert (found.slug, found.team_slug, found.team_has_manager) == ("ledger", "payments", True)
    assert found.dependency_count == 1
    assert sorted((slo.name, slo.computed, slo.alert) for slo in found.slos) == [
        ("Availability 01", True, "page"),
        ("Availability 02", False, "none"),
    ]
    assert all(slo.has_policy for slo in found.slos)  # the default policy
    assert found.readiness == ReadinessFacts()
    assert found.extra["incidents"].postmortems_past_due == ()


@pytest.mark.django_db
def test_without_a_default_policy_an_slo_naming_none_has_no_policy(payments):
    service = ServiceFactory(owner_team=payments)
    make_slo(service, 1)
    BudgetPolicy.objects.update(is_default=False)

    found = service_facts([service.pk], now=NOW)[service.pk]

    assert [slo.has_policy for slo in found.slos] == [False]


@pytest.mark.django_db
def test_the_facts_of_many_services_cost_the_same_queries_as_of_few(django_assert_max_num_queries):
    teams = [TeamFactory(manager=UserFactory()) for _ in range(3)]
    for size in (3, 30):
        while len(service_facts(None, now=NOW)) < size:
            service = ServiceFactory(owner_team=teams[size % 3])
            make_status(make_slo(service, 1))
        # Services, SLOs with snapshots, the default policy, approvals; the incidents' three.
        with django_assert_max_num_queries(7):
            assert len(service_facts(None, now=datetime(2026, 11, 20, tzinfo=UTC))) == size
