"""Maturity scorecards: level and score (with hypothesis properties), the coalesced recompute
and its sweep, exemptions and their expiry, campaigns, the weekly history, the pages with their
query counts, the CSV export, the API and the selectors reports read."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from pytest_django.asserts import assertContains

from portal import doorbell
from services import tasks
from services.actions.scorecards import (
    campaign_create,
    checks_mark_dirty,
    checks_recompute,
    checks_recompute_dirty,
    exemption_approve,
    exemption_reject,
    exemption_request,
    scorecard_trends_record,
)
from services.checks.registry import CheckResult
from services.models.catalog import Service
from services.models.scorecards import (
    Exemption,
    ScorecardResult,
    ScorecardTrend,
    ServiceChecks,
    ServiceChecksDirty,
)
from services.scorecards import Level, Rule, evaluate, level_rank, next_steps, score
from services.selectors import scorecards as scorecard_selectors
from tests.factories import ServiceFactory, TeamFactory, UserFactory
from tests.services.readiness_data import complete_service, query_count
from tests.services.slo_data import make_slo, make_status

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEVELS = [Level(1, "Bronze"), Level(2, "Silver"), Level(3, "Gold")]


def passed(flag):
    return CheckResult(flag, "ok" if flag else "missing", "" if flag else "/fix/")


# --- level and score (pure) --------------------------------------------------------------------

rules_strategy = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=3),  # level rank
        st.integers(min_value=1, max_value=10),  # weight
        st.booleans(),  # passes
        st.booleans(),  # exempt
    ),
    max_size=12,
)


def evaluation_of(specs):
    rules = [
        Rule(f"check{n}", f"Check {n}", weight, rank)
        for n, (rank, weight, _, _) in enumerate(specs)
    ]
    results = {f"check{n}": passed(ok) for n, (_, _, ok, _) in enumerate(specs)}
    exempt = {f"check{n}" for n, (_, _, _, free) in enumerate(specs) if free}
    return evaluate(LEVELS, rules, results, exempt)


@given(specs=rules_strategy, rank=st.integers(min_value=1, max_value=3), weight=st.integers(1, 10))
def test_adding_a_passing_rule_never_lowers_the_level_or_the_score(specs, rank, weight):
    before = evaluation_of(specs)
    after = evaluation_of([*specs, (rank, weight, True, False)])

    assert after.level_rank >= before.level_rank
    assert after.score >= before.score


@given(specs=rules_strategy)
def test_the_level_is_the_highest_whose_rules_and_every_lower_levels_pass(specs):
    evaluation = evaluation_of(specs)
    failing_ranks = {
        outcome.level_rank for outcome in evaluation.outcomes if not outcome.counts_as_passed
    }

    assert all(rank not in failing_ranks for rank in range(1, evaluation.level_rank + 1))
    assert evaluation.level_rank == 3 or evaluation.level_rank + 1 in failing_ranks
    assert 0 <= evaluation.score <= 100


@given(specs=rules_strategy)
def test_an_exempt_rule_counts_as_passed(specs):
    exempted = [(rank, weight, ok, True) for rank, weight, ok, _ in specs]
    all_passing = [(rank, weight, True, False) for rank, weight, _, _ in specs]

    assert evaluation_of(exempted).level_rank == evaluation_of(all_passing).level_rank == 3
    assert evaluation_of(exempted).score == 100


def test_a_failing_bronze_rule_caps_the_level_below_bronze_whatever_passes_above():
    evaluation = evaluation_of([(1, 1, False, False), (2, 5, True, False), (3, 5, True, False)])

    assert (evaluation.level_rank, evaluation.score) == (0, 91)
    assert evaluation.failing == ["check0"]


def test_the_score_weighs_the_rules_and_a_scorecard_without_rules_is_complete():
    assert evaluation_of([(1, 3, True, False), (1, 1, False, False)]).score == 75
    assert score([]) == 100
    assert level_rank(LEVELS, []) == 3


def test_the_next_steps_are_the_failing_rules_up_to_the_next_level():
    outcomes = [
        outcome.as_json()
        for outcome in evaluation_of(
            [(1, 1, True, False), (2, 1, False, False), (3, 1, False, False)]
        ).outcomes
    ]

    target, lacking = next_steps(LEVELS, 1, outcomes)

    assert target.name == "Silver"
    assert [outcome["check"] for outcome in lacking] == ["check1"]
    assert next_steps(LEVELS, 3, outcomes) == (None, [])


# --- the recompute -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def clock():
    # Ticking: a real worker runs in one test.
    with time_machine.travel(NOW, tick=True):
        yield


def result_of(service, key="service-maturity") -> ScorecardResult:
    return ScorecardResult.objects.select_related("level").get(service=service, scorecard__key=key)


@pytest.mark.django_db
def test_the_recompute_stores_every_checks_outcome_and_each_services_level(service, payments):
    complete_service(service, dependency=ServiceFactory(owner_team=payments))

    assert checks_recompute(service_ids=[service.pk], now=NOW) == 1

    checks = ServiceChecks.objects.get(service=service).results
    assert checks["runbook_link"] == [True, "The runbook link is set.", ""]
    result = result_of(service)
    assert result.level.name == "Bronze"  # no SLO: Silver is out of reach
    assert "slo_defined" in result.failing
    outcome = next(item for item in result.outcomes if item["check"] == "slo_defined")
    assert outcome == {
        "check": "slo_defined",
        "title": "At least one SLO",
        "weight": 3,
        "level_rank": 2,
        "passed": False,
        "exempt": False,
        "reason": "No SLO is defined.",
        "fix_url": reverse("slo_add", args=[service.slug]),
    }


@pytest.mark.django_db
def test_changes_mark_services_dirty_and_ring_once_for_a_storm(
    service, owner, django_capture_on_commit_callbacks
):
    ServiceChecksDirty.objects.all().delete()
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(50):
            checks_mark_dirty(service_ids=[service.pk])

    assert ServiceChecksDirty.objects.filter(service=service).count() == 1
    assert [callback.args[0].name for callback in callbacks] == [
        "services.tasks.recompute_dirty_checks"
    ]
    assert callbacks[0].keywords["countdown"] > 0  # the storm's other changes come along


@pytest.mark.django_db
def test_saving_a_service_an_slo_or_a_team_marks_its_services(service, owner, payments):
    from services.actions.catalog import service_update, team_update
    from services.actions.slos import slo_create

    for change in (
        lambda: service_update(service=service, runbook_url="https://wiki.example.test/x"),
        lambda: slo_create(service=service, name="Avail", slug="avail", objective="99.9",
                           events_query="sum(rate(good[{{.window}}]))",
                           total_query="sum(rate(all[{{.window}}]))"),
        lambda: team_update(team=payments, manager=None),
    ):  # fmt: skip
        ServiceChecksDirty.objects.all().delete()
        change()
        assert ServiceChecksDirty.objects.filter(service=service).exists()


@pytest.mark.django_db
def test_the_dirty_services_are_recomputed_once_and_their_marks_cleared(service, payments):
    other = ServiceFactory(owner_team=payments)
    checks_mark_dirty(service_ids=[service.pk, other.pk])

    assert checks_recompute_dirty(now=NOW) == 2
    assert checks_recompute_dirty(now=NOW) == 0
    assert not ServiceChecksDirty.objects.exists()
    assert ScorecardResult.objects.filter(service__in=[service, other]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_sweep_finds_dirty_services_whose_ring_was_lost(service, celery_worker, settings):
    """A real worker: the sweep rings the recompute for the dirty service (its own ring was
    lost), which is scored, and its mark cleared."""
    from tests.portal.test_tasks import wait_for

    ServiceChecksDirty.objects.create(service=service, marked_at=NOW)
    doorbell.ring(tasks.recompute_dirty_checks)  # what portal.tasks.sweep rings for it

    assert wait_for(lambda: not ServiceChecksDirty.objects.exists())
    assert ScorecardResult.objects.filter(service=service).exists()
    assert "services.tasks.recompute_dirty_checks" in settings.PORTAL_SWEEPS


@pytest.mark.django_db
def test_one_broken_service_record_does_not_stop_the_others(service, payments, monkeypatch):
    from services.checks import registry

    other = ServiceFactory(owner_team=payments, slug="other")

    def fails_on_other(facts):
        if facts.slug == "other":
            raise ValueError("odd record")
        return CheckResult(True, "fine")

    monkeypatch.setitem(
        registry._CHECKS, "runbook_link", registry.Check("runbook_link", "Runbook", fails_on_other)
    )

    checks_recompute(service_ids=None, now=NOW)

    assert ServiceChecks.objects.get(service=other).results["runbook_link"][0] is False
    assert ServiceChecks.objects.get(service=service).results["runbook_link"][0] is True


@pytest.mark.django_db
def test_recomputing_many_services_costs_the_same_queries_as_few(
    payments, django_assert_max_num_queries
):
    for size in (3, 30):
        while ServiceChecks.objects.count() < size:
            service = ServiceFactory(owner_team=payments)
            make_status(make_slo(service, 1))
            checks_recompute(service_ids=[service.pk], now=NOW)
        # Facts 7, checks written 1, scorecards 3, exemptions 1, results written 1,
        # stale results 1, open reviews' items 1 (and a savepoint's two).
        with django_assert_max_num_queries(17):
            assert checks_recompute(service_ids=None, now=NOW) == size


# --- exemptions --------------------------------------------------------------------------------


@pytest.fixture
def exemption(service, owner):
    return exemption_request(
        service=service,
        scorecard_key="service-maturity",
        check_name="runbook_link",
        reason="The runbook moves to the new wiki.",
        expires_on=date(2026, 3, 31),
        by=owner,
    )


def runbook_outcome(service):
    result = result_of(service)
    return next(item for item in result.outcomes if item["check"] == "runbook_link"), result


@pytest.mark.django_db
def test_an_approved_exemption_counts_as_passed_until_it_expires(service, exemption, sre_lead):
    service.runbook_url = ""
    service.save()
    with time_machine.travel(NOW, tick=False):
        exemption_approve(exemption=exemption, by=sre_lead)
        checks_recompute(service_ids=[service.pk], now=NOW)
    outcome, result = runbook_outcome(service)
    assert (outcome["passed"], outcome["exempt"]) == (False, True)
    assert "runbook_link" not in result.failing

    checks_recompute(service_ids=[service.pk], now=datetime(2026, 3, 31, 22, tzinfo=UTC))
    assert runbook_outcome(service)[0]["exempt"] is True  # the 31st is its last day
    checks_recompute(service_ids=[service.pk], now=datetime(2026, 4, 1, 0, 5, tzinfo=UTC))
    outcome, result = runbook_outcome(service)
    assert outcome["exempt"] is False
    assert "runbook_link" in result.failing


@pytest.mark.django_db
def test_a_pending_or_refused_exemption_does_not_count(service, exemption, sre_lead):
    checks_recompute(service_ids=[service.pk], now=NOW)
    assert runbook_outcome(service)[0]["exempt"] is False

    with pytest.raises(ValidationError, match="Say why the exemption is refused"):
        exemption_reject(exemption=exemption, by=sre_lead)
    exemption_reject(exemption=exemption, by=sre_lead, note="Move the runbook first.")
    with pytest.raises(ValidationError, match="already rejected"):
        exemption_approve(exemption=exemption, by=sre_lead)


@pytest.mark.django_db
def test_an_exemption_names_a_rule_of_the_scorecard_a_future_date_and_one_at_a_time(
    service, owner, exemption
):
    ask = {"service": service, "scorecard_key": "service-maturity", "reason": "R.", "by": owner}
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(ValidationError, match="has no rule “nope”"):
            exemption_request(check_name="nope", expires_on=date(2026, 4, 1), **ask)
        with pytest.raises(ValidationError, match="expires after today"):
            exemption_request(check_name="slo_defined", expires_on=date(2026, 3, 2), **ask)
        with pytest.raises(ValidationError, match="pending or in force"):
            exemption_request(check_name="runbook_link", expires_on=date(2026, 4, 1), **ask)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"), [("owner", 201), ("sre_lead", 201), ("outsider", 403), ("viewer", 403)]
)
def test_the_owner_team_asks_for_exemptions_and_sre_leads_decide(
    api_client_for, users_by_role, service, who, status
):
    response = api_client_for(users_by_role[who]).post(
        "/api/exemptions/",
        {
            "service": service.slug,
            "check": "slo_defined",
            "reason": "Batch.",
            "expires_on": "2099-01-01",
        },
        format="json",
    )
    assert response.status_code == status, response.content
    if status == 201:
        path = f"/api/exemptions/{response.json()['id']}/approve/"
        assert api_client_for(users_by_role["owner"]).post(path, {}).status_code == 403
        approved = api_client_for(users_by_role["sre_lead"]).post(path, {"note": "Fine."})
        assert approved.json()["status"] == "approved"


@pytest.mark.django_db
def test_exemptions_are_decided_on_the_exemptions_page(client_for, sre_lead, owner, exemption):
    assert (
        client_for(owner).post(reverse("exemption_approve", args=[exemption.pk])).status_code == 403
    )

    client = client_for(sre_lead)
    page = client.get(reverse("exemption_list"), {"status": "pending"})
    client.post(reverse("exemption_approve", args=[exemption.pk]), {"note": ""})

    assertContains(page, "The runbook moves to the new wiki.")
    exemption.refresh_from_db()
    assert exemption.status == "approved"
    assert exemption.history.count() == 2


@pytest.mark.django_db
def test_an_engineer_asks_for_an_exemption_from_the_service(client_for, owner, service):
    url = reverse("exemption_add", args=[service.slug])
    response = client_for(owner).post(
        url + "?check=slo_defined",
        {"check_name": "slo_defined", "reason": "A batch job.", "expires_on": "2099-01-01"},
    )

    assert response.status_code == 302
    assert Exemption.objects.get().check_name == "slo_defined"


@pytest.mark.django_db
def test_exemptions_expiring_soon_for_reminders(service, exemption, sre_lead):
    exemption_approve(exemption=exemption, by=sre_lead)

    assert list(scorecard_selectors.exemptions_expiring(date(2026, 4, 14))) == [exemption]
    assert list(scorecard_selectors.exemptions_expiring(date(2026, 3, 31))) == []


# --- campaigns and history ---------------------------------------------------------------------


def scored_catalog(teams, per_team):
    """Per team: a complete service with an SLO (Silver), a bare one (no level), a tier-3."""
    for team in teams:
        for number in range(per_team):
            dependency = ServiceFactory(owner_team=team, tier=3)
            complete = ServiceFactory(owner_team=team, tier=1)
            complete_service(complete, dependency=dependency)
            make_status(make_slo(complete, number), remaining=0.5, coverage=0.99)
            ServiceFactory(owner_team=team, tier=1, description="")
    checks_recompute(service_ids=None, now=NOW)


@pytest.mark.django_db
def test_a_campaigns_progress_counts_its_tiers_per_team_with_what_failing_services_lack():
    teams = [TeamFactory(manager=UserFactory()) for _ in range(2)]
    scored_catalog(teams, 1)
    campaign = campaign_create(
        name="Tier 1 at Silver", slug="t1", scorecard_key="service-maturity",
        target_level="Silver", tiers=[1], due_on=date(2026, 6, 30),
    )  # fmt: skip

    progress = scorecard_selectors.campaign_detail_progress(campaign)

    assert (progress.services, progress.at_target, progress.percent) == (4, 2, 50)
    assert [(team.services, team.at_target) for team in progress.teams] == [(2, 1), (2, 1)]
    _, lacking = progress.teams[0].failing[0]
    assert {outcome["check"] for outcome in lacking} >= {"description_present", "slo_defined"}


@pytest.mark.django_db
def test_a_campaign_names_a_level_of_its_scorecard():
    with pytest.raises(ValidationError, match="has the levels Bronze, Silver, Gold"):
        campaign_create(
            name="X", slug="x", scorecard_key="service-maturity", target_level="Platinum",
            tiers=[1], due_on=date(2026, 6, 30),
        )  # fmt: skip


@pytest.mark.django_db
def test_the_weekly_history_keeps_each_teams_and_the_organisations_scores():
    teams = [TeamFactory(manager=UserFactory()) for _ in range(2)]
    scored_catalog(teams, 1)

    assert scorecard_trends_record(now=NOW) == 3
    assert scorecard_trends_record(now=NOW + timedelta(days=1)) == 3  # same week: replaced

    org = ScorecardTrend.objects.get(team=None)
    assert (org.week, org.services) == (date(2026, 3, 2), 6)
    assert sum(org.level_counts.values()) == 6
    assert ScorecardTrend.objects.count() == 3


@pytest.mark.django_db
def test_maturity_levels_by_team_for_the_monthly_report():
    teams = [TeamFactory(manager=UserFactory()) for _ in range(2)]
    scored_catalog(teams, 1)

    levels = scorecard_selectors.maturity_levels_by_team()

    assert set(levels) == set(teams)
    assert sum(levels[teams[0]].values()) == 3
    assert levels[teams[0]].get("Silver") == 1


# --- pages -------------------------------------------------------------------------------------


@pytest.fixture
def users_by_role(owner, teammate, outsider, viewer, sre_lead):
    return {
        "owner": owner,
        "teammate": teammate,
        "outsider": outsider,
        "viewer": viewer,
        "sre_lead": sre_lead,
    }


@pytest.mark.django_db
def test_the_scorecards_page_costs_the_same_queries_for_few_or_many_teams(
    client_for, viewer, django_assert_max_num_queries
):
    client = client_for(viewer)
    campaign_create(
        name="Tier 1 at Silver", slug="t1", scorecard_key="service-maturity",
        target_level="Silver", tiers=[1], due_on=date(2026, 6, 30),
    )  # fmt: skip
    for teams in (2, 12):
        scored_catalog(
            [TeamFactory(manager=UserFactory()) for _ in range(2 if teams == 2 else 10)], 1
        )
        with django_assert_max_num_queries(22):
            response = client.get(reverse("scorecard_overview"))
        assert response.status_code == 200
        assertContains(response, "services scored")


@pytest.mark.django_db
def test_the_team_scorecard_shows_what_each_service_lacks_in_constant_queries(
    client_for, viewer, payments, django_assert_max_num_queries
):
    client = client_for(viewer)
    url = reverse("team_maturity", args=["payments"])
    counts = []
    for per_team in (1, 4):
        scored_catalog([payments], 1 if per_team == 1 else 3)
        with django_assert_max_num_queries(18):
            response = client.get(url)
        assertContains(response, "For Bronze:")
        assertContains(response, "Described in the catalog")
        counts.append(query_count(lambda: client.get(url)))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_the_service_page_shows_its_level_and_what_to_do_next(client_for, owner, service):
    checks_recompute(service_ids=[service.pk], now=NOW)

    response = client_for(owner).get(service.get_absolute_url())

    assertContains(response, "No level yet")
    assertContains(response, "To reach <strong>Bronze</strong>", html=False)
    assertContains(response, "ask for an exemption")


@pytest.mark.django_db
def test_a_next_step_links_to_its_fix_only_for_those_who_may_make_it(
    client_for, owner, outsider, sre_lead, service, payments
):
    """The steps are the same for everyone (a snapshot); the service's edit page is its
    team's and the SRE leads', so others read the step without a link to a refusal."""
    checks_recompute(service_ids=[service.pk], now=NOW)
    edit = reverse("service_edit", args=[service.slug])
    step = re.compile(rf'<a href="{edit}"[^>]*>Runbook link</a>')
    pages = (service.get_absolute_url(), reverse("team_maturity", args=[payments.slug]))
    for person, linked in ((owner, True), (sre_lead, True), (outsider, False)):
        for page in pages:
            response = client_for(person).get(page)
            assertContains(response, "Runbook link")
            assert bool(step.search(response.text)) is linked, (person.username, page)
    assert client_for(outsider).get(edit).status_code == 403


@pytest.mark.django_db
def test_the_csv_export_lists_the_filtered_services_with_their_failing_rules(
    client_for, viewer, payments, search_team
):
    scored_catalog([payments, search_team], 1)

    response = client_for(viewer).get(reverse("scorecard_export"), {"team": "payments"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["service", "team", "tier"]
    assert len(rows) == 4 and {row[1] for row in rows[1:]} == {"payments"}
    assert any("Described in the catalog" in row[8] for row in rows[1:])


@pytest.mark.django_db
def test_campaign_pages_and_only_sre_leads_start_campaigns(client_for, owner, sre_lead):
    assert client_for(owner).get(reverse("campaign_add")).status_code == 403
    client = client_for(sre_lead)
    response = client.post(
        reverse("campaign_add"),
        {"name": "Gold rush", "slug": "", "scorecard_key": "service-maturity",
         "target_level": "Gold", "tiers": ["1", "2"], "due_on": "2026-09-30"},
    )  # fmt: skip

    assert response.status_code == 302
    assertContains(client.get(reverse("campaign_detail", args=["gold-rush"])), "Gold rush")
    assertContains(client.get(reverse("campaign_list")), "Tier 1/2 at Gold")


# --- the API -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_results_api_filters_by_service_team_and_level(
    api_client_for, viewer, owner, payments, search_team, django_assert_max_num_queries
):
    search_team.manager = UserFactory()
    search_team.save()
    scored_catalog([payments, search_team], 1)
    api = api_client_for(viewer)

    with django_assert_max_num_queries(8):
        silver = api.get("/api/scorecard-results/", {"team": "payments", "level": "silver"}).json()
    none = api.get("/api/scorecard-results/", {"level": "none"}).json()

    assert silver["count"] == 1
    result = silver["results"][0]
    assert (result["team"], result["level"], result["scorecard"]) == (
        "payments",
        "Silver",
        "service-maturity",
    )
    assert {"check", "passed", "exempt", "reason", "fix_url"} <= set(result["outcomes"][0])
    assert none["count"] == 4 and all(item["level"] is None for item in none["results"])


@pytest.mark.django_db
def test_campaigns_in_the_api_carry_their_progress_and_only_sre_leads_write_them(
    api_client_for, owner, sre_lead, payments
):
    scored_catalog([payments], 1)
    body = {"name": "T1", "slug": "t1", "scorecard": "service-maturity", "target_level": "Silver",
            "tiers": [1], "due_on": "2026-06-30"}  # fmt: skip

    assert api_client_for(owner).post("/api/campaigns/", body, format="json").status_code == 403
    created = api_client_for(sre_lead).post("/api/campaigns/", body, format="json")
    listed = api_client_for(owner).get("/api/campaigns/").json()["results"][0]

    assert created.status_code == 201, created.content
    assert listed["progress"]["services"] == 2
    assert listed["progress"]["teams"][0]["team"] == "payments"
    bad = api_client_for(sre_lead).post(
        "/api/campaigns/", body | {"slug": "t2", "target_level": "Diamond"}, format="json"
    )
    assert bad.status_code == 400 and "target_level" in bad.json()


# --- the demo ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_has_reviews_in_every_state_levels_across_the_range_and_a_campaign(
    django_capture_on_commit_callbacks,
):
    from portal.demo.load import load_demo_data
    from services.models.readiness import ReadinessReview

    load_demo_data(password="correct horse battery staple")
    load_demo_data(password="correct horse battery staple")

    statuses = dict(ReadinessReview.objects.values_list("service__slug", "status"))
    assert statuses == {"payments-api": "approved", "refunds": "in_review"}
    assert (
        ReadinessReview.objects.get(service__slug="refunds").items.filter(status="waived").count()
        == 1
    )
    levels = set(ScorecardResult.objects.values_list("level__name", flat=True))
    assert levels == {None, "Bronze", "Silver", "Gold"}
    assert result_of(Service.objects.get(slug="payments-api")).level.name == "Gold"
    assert scorecard_selectors.campaign_list().count() == 1
    assert ScorecardTrend.objects.filter(team=None).count() >= 4


@pytest.mark.django_db
def test_the_campaign_and_exemption_lists_cost_the_same_queries_for_few_or_many(
    client_for, api_client_for, sre_lead, owner, payments
):
    client, api = client_for(sre_lead), api_client_for(sre_lead)
    urls = {
        "campaigns": (client.get, reverse("campaign_list")),
        "exemptions": (client.get, reverse("exemption_list")),
        "campaigns API": (api.get, "/api/campaigns/"),
        "exemptions API": (api.get, "/api/exemptions/"),
    }
    counts = {name: [] for name in urls}
    for size in (2, 12):
        while scorecard_selectors.campaign_list().count() < size:
            number = scorecard_selectors.campaign_list().count()
            campaign_create(
                name=f"Campaign {number}", slug=f"campaign-{number}",
                scorecard_key="service-maturity", target_level="Silver", tiers=[1, 2],
                due_on=date(2026, 6, 30),
            )  # fmt: skip
            exemption_request(
                service=ServiceFactory(owner_team=payments), scorecard_key="service-maturity",
                check_name="runbook_link", reason="Soon.", expires_on=date(2026, 6, 30), by=owner,
            )  # fmt: skip
        for name, (get, url) in urls.items():
            assert get(url).status_code == 200
            counts[name].append(query_count(lambda get=get, url=url: get(url)))
    assert all(first == second for first, second in counts.values()), counts


@pytest.mark.django_db
def test_the_heat_map_escapes_names_and_sorts_teams_worst_average_first(client_for, viewer):
    strong = TeamFactory(name="Strong", manager=UserFactory())
    weak = TeamFactory(name="<b>Weak</b>")
    scored_catalog([strong, weak], 1)

    response = client_for(viewer).get(reverse("scorecard_overview"))
    by_name = client_for(viewer).get(reverse("scorecard_overview"), {"ordering": "team"})

    body = response.content.decode()
    assert "<b>Weak</b>" not in body
    assert body.index("&lt;b&gt;Weak&lt;/b&gt;") < body.index(">Strong<")  # no manager: worse
    names = [standing["team"].name for standing in by_name.context["rows"]]
    assert names == ["<b>Weak</b>", "Strong"]
