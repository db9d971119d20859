"""The deploy gate as pipelines call it: POST /api/deploy-gate/ answers 200 with the decision
and every reason (a deny is an answer), 400 naming the field for bad input; every answer is
recorded and listed; SRE leads' overrides and their expiry; the gate preview of a change."""

import datetime as dt

import pytest

from incidents.choices import Severity
from services.choices import Lifecycle, Tier
from tests.factories import ServiceFactory, UserFactory
from tests.incidents.factories import IncidentFactory
from tests.toil.change_factories import (
    ChangeFactory,
    FreezeFactory,
    approved_change,
    budget_in_tier,
    make_change_approver,
    readiness_approved,
)
from toil.models.changes import GateDecision, GateOverride
from toil.selectors import gate as selectors_gate

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
GATE = "/api/deploy-gate/"
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture(autouse=True)
def reviewed(service):
    """The Payments API (tier 2, in production) has a valid readiness review: the tests below
    see the gate's other reasons; those about readiness take it away or use other services."""
    readiness_approved(service, at=NOW - dt.timedelta(days=30))


@pytest.fixture
def pipeline(api_client_for, owner):
    """The payments team's pipeline: a token of one of its engineers."""
    return api_client_for(owner)


def ask(client, services, category="low-risk", **extra):
    return client.post(GATE, {"services": services, "category": category, **extra}, format="json")


def test_a_low_risk_deploy_with_nothing_in_the_way_is_allowed_and_recorded(pipeline, service):
    response = ask(pipeline, ["payments-api"], version="1.4.2")
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "allow" and body["reasons"] == []
    assert body["evaluated_at"] == "2026-03-10T12:00:00Z"
    decision = GateDecision.objects.get(pk=body["id"])
    assert (decision.asked_by.username, decision.version, decision.category) == (
        "olivia",
        "1.4.2",
        "low-risk",
    )
    assert [s.slug for s in decision.services.all()] == ["payments-api"]


def test_a_budget_frozen_service_is_denied_with_its_reason_and_link(pipeline, service):
    slo = budget_in_tier(service, "frozen")
    response = ask(pipeline, ["payments-api"])
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "deny"
    [reason] = body["reasons"]
    assert reason["code"] == "budget_freeze" and reason["effect"] == "deny"
    assert "frozen budget tier" in reason["message"]
    assert reason["url"] == f"http://testserver{slo.get_absolute_url()}"
    assert GateDecision.objects.get().decision == "deny"


def test_a_budget_in_review_needs_approval(pipeline, service):
    budget_in_tier(service, "caution")
    assert ask(pipeline, ["payments-api"]).json()["decision"] == "needs_approval"


def test_an_open_sev1_on_what_the_service_depends_on_denies_it(pipeline, payments, service):
    database = ServiceFactory(owner_team=payments, slug="ledger-db")
    cache = ServiceFactory(owner_team=payments, slug="ledger-cache", depends_on=[database])
    service.depends_on.add(cache)
    incident = IncidentFactory(services=[database], severity=Severity.SEV1, title="Disk full")
    body = ask(pipeline, ["payments-api"]).json()
    assert body["decision"] == "deny"
    assert body["reasons"][0]["code"] == "incident"
    assert body["reasons"][0]["url"].endswith(incident.get_absolute_url())


def test_a_sev3_does_not_stop_a_deploy(pipeline, service):
    IncidentFactory(services=[service], severity=Severity.SEV3)
    assert ask(pipeline, ["payments-api"]).json()["decision"] == "allow"


def test_a_freeze_in_force_denies_and_says_until_when(pipeline, service):
    FreezeFactory(
        name="Quarter close", start=NOW - dt.timedelta(hours=1), end=NOW + dt.timedelta(hours=5)
    )
    [reason] = ask(pipeline, ["payments-api"]).json()["reasons"]
    assert reason["code"] == "freeze"
    assert "until 2026-03-10 17:00 UTC" in reason["message"]


def test_a_standard_deploy_needs_an_approved_change_covering_it_now(pipeline, owner, service):
    body = ask(pipeline, ["payments-api"], "standard").json()
    assert (body["decision"], body["reasons"][0]["code"]) == ("needs_approval", "change_required")
    approvers = [make_change_approver(UserFactory()) for _ in range(2)]
    change = approved_change([service], author=owner, approvers=approvers)
    body = ask(pipeline, ["payments-api"], "standard", change=change.pk).json()
    assert body["decision"] == "allow"
    assert GateDecision.objects.filter(change=change).count() == 1


def test_a_tier_1_or_2_service_in_production_without_a_valid_review_is_denied(
    pipeline, payments, service
):
    ServiceFactory(name="Ledger", slug="ledger", owner_team=payments, tier=Tier.TIER_1)
    body = ask(pipeline, ["payments-api", "ledger"]).json()
    assert body["decision"] == "deny"
    [reason] = body["reasons"]
    assert reason["code"] == "readiness"
    assert reason["message"] == (
        "Ledger is a tier-1 service without a valid production-readiness review."
    )
    assert reason["url"].endswith("/services/ledger/readiness/")
    assert GateDecision.objects.get(pk=body["id"]).decision == "deny"


@pytest.mark.parametrize(
    ("tier", "lifecycle"),
    [(Tier.TIER_3, Lifecycle.PRODUCTION), (Tier.TIER_1, Lifecycle.EXPERIMENTAL)],
    ids=["tier 3", "not yet in production"],
)
def test_readiness_stops_only_tier_1_and_2_services_in_production(
    pipeline, payments, service, tier, lifecycle
):
    ServiceFactory(slug="tool", owner_team=payments, tier=tier, lifecycle=lifecycle)
    assert ask(pipeline, ["tool"]).json()["decision"] == "allow"


def test_an_expired_review_denies_again(pipeline, service, time_machine):
    # The review of the fixture was approved 30 days before NOW and lasts 365 days.
    time_machine.move_to(NOW + dt.timedelta(days=336), tick=False)
    [reason] = ask(pipeline, ["payments-api"]).json()["reasons"]
    assert reason["code"] == "readiness"
    assert selectors_gate.services_without_valid_readiness(
        [service.pk], now=NOW + dt.timedelta(days=336)
    ) == frozenset({service.pk})
    assert not selectors_gate.services_without_valid_readiness([service.pk], now=NOW)


def test_an_sre_leads_override_lets_an_unreviewed_service_through(
    api_client_for, pipeline, payments, sre_lead
):
    ledger = ServiceFactory(slug="ledger", owner_team=payments, tier=Tier.TIER_1)
    GateOverride.objects.create(
        service=ledger, reason="Review booked", created_by=sre_lead, expires_at=NOW + HOUR
    )
    body = ask(pipeline, ["ledger"]).json()
    assert body["decision"] == "allow"
    assert {reason["code"]: reason["effect"] for reason in body["reasons"]}["readiness"] == "info"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"services": ["no-such-service"], "category": "low-risk"}, "services"),
        ({"services": [], "category": "low-risk"}, "services"),
        ({"services": ["payments-api"], "category": "yolo"}, "category"),
        ({"services": ["payments-api"], "category": "standard", "change": 999}, "change"),
        ({"category": "standard"}, "services"),
        ({"services": "payments-api", "category": "standard"}, "services"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_recorded(
    pipeline, service, payload, field
):
    response = pipeline.post(GATE, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not GateDecision.objects.exists()


def test_a_change_of_another_category_is_bad_input(pipeline, owner, service):
    change = ChangeFactory(services=[service], author=owner, category="low-risk")
    response = ask(pipeline, ["payments-api"], "standard", change=change.pk)
    assert response.status_code == 400
    assert "not a standard one" in response.json()["change"][0]


def test_the_unknown_service_is_named(pipeline, service):
    response = ask(pipeline, ["payments-api", "billing-api"])
    assert response.json()["services"] == ["No service has the slug “billing-api”."]


def test_asking_needs_a_sign_in(client, service):
    assert client.post(GATE, {}, content_type="application/json").status_code in (401, 403)


def test_a_viewer_does_not_ask_the_gate(api_client_for, viewer, service):
    # Asking records an answer: pipelines ask with an engineer's (or an SRE lead's) token.
    assert ask(api_client_for(viewer), ["payments-api"]).status_code == 403
    assert not GateDecision.objects.exists()


# --- overrides ------------------------------------------------------------------------------------


def test_an_sre_leads_override_lets_a_denied_service_through_until_it_expires(
    api_client_for, pipeline, sre_lead, service, time_machine
):
    budget_in_tier(service, "frozen")
    lead = api_client_for(sre_lead)
    response = lead.post(
        "/api/gate-overrides/",
        {
            "service": "payments-api",
            "reason": "Shipping the fix for the budget burn",
            "expires_at": "2026-03-10T14:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = ask(pipeline, ["payments-api"]).json()
    assert body["decision"] == "allow"
    codes = {reason["code"]: reason for reason in body["reasons"]}
    assert codes["budget_freeze"]["effect"] == "info"
    assert "Sasha Lead" in codes["override"]["message"]
    assert "Shipping the fix" in codes["override"]["message"]

    time_machine.move_to(NOW + dt.timedelta(hours=2), tick=False)
    assert ask(pipeline, ["payments-api"]).json()["decision"] == "deny"
    override = GateOverride.objects.get()
    assert override.history.count() == 1


def test_a_revoked_override_lifts_nothing(api_client_for, pipeline, sre_lead, service):
    budget_in_tier(service, "frozen")
    override = GateOverride.objects.create(
        service=service, reason="Test", created_by=sre_lead, expires_at=NOW + dt.timedelta(hours=1)
    )
    response = api_client_for(sre_lead).post(f"/api/gate-overrides/{override.pk}/revoke/")
    assert response.status_code == 200 and response.json()["active"] is False
    assert ask(pipeline, ["payments-api"]).json()["decision"] == "deny"


@pytest.mark.parametrize(
    ("expires_at", "message"),
    [("2026-03-12T12:00:00Z", "at most 24 hours"), ("2026-03-10T11:00:00Z", "expires after")],
)
def test_an_override_is_limited_in_time(api_client_for, sre_lead, service, expires_at, message):
    response = api_client_for(sre_lead).post(
        "/api/gate-overrides/",
        {"service": "payments-api", "reason": "Because", "expires_at": expires_at},
        format="json",
    )
    assert response.status_code == 400
    assert message in str(response.json())


@pytest.mark.parametrize("user", ["owner", "viewer"])
def test_only_sre_leads_override_the_gate(request, api_client_for, service, user):
    response = api_client_for(request.getfixturevalue(user)).post(
        "/api/gate-overrides/",
        {"service": "payments-api", "reason": "Please", "expires_at": "2026-03-10T13:00:00Z"},
        format="json",
    )
    assert response.status_code == 403
    assert not GateOverride.objects.exists()


# --- what was decided -----------------------------------------------------------------------------


def test_decisions_are_listed_and_filtered_by_service_and_decision(
    api_client_for, pipeline, payments, service, viewer
):
    other = ServiceFactory(owner_team=payments, slug="refunds")
    budget_in_tier(other, "frozen")
    ask(pipeline, ["payments-api"])
    ask(pipeline, ["refunds"])
    client = api_client_for(viewer)
    listed = client.get("/api/gate-decisions/", {"service": "refunds"}).json()
    assert [row["decision"] for row in listed["results"]] == ["deny"]
    assert listed["results"][0]["services"] == ["refunds"]
    assert client.get("/api/gate-decisions/", {"decision": "allow"}).json()["count"] == 1


@pytest.mark.parametrize("size", [1, 12])
def test_a_gate_decision_takes_the_same_queries_at_any_size(
    pipeline, payments, service, django_assert_max_num_queries, size
):
    for number in range(size):
        dependency = ServiceFactory(owner_team=payments)
        service.depends_on.add(dependency)
        budget_in_tier(service, "healthy", number=number)
        IncidentFactory(services=[dependency], severity=Severity.SEV2)
        FreezeFactory(start=NOW - dt.timedelta(days=10), end=NOW - dt.timedelta(days=9))
    # The token and the asker's role, the services, SLO rules, dependencies, incidents,
    # freezes, overrides, readiness, the record (decision, its services), and savepoints.
    with django_assert_max_num_queries(14):
        response = ask(pipeline, ["payments-api"])
    assert response.json()["decision"] == "deny"


def test_the_gate_preview_of_a_change_is_not_recorded(api_client_for, owner, service, viewer):
    change = approved_change([service], author=owner, approvers=[])
    body = api_client_for(viewer).get(f"/api/changes/{change.pk}/gate/").json()
    assert body["decision"] == "allow"
    assert "id" not in body
    assert not GateDecision.objects.exists()
