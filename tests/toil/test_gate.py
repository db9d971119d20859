"""The deploy gate's rules (toil.gate), as a table of cases over its facts: each reason alone
and combined, the change request each category needs, the emergency bypass, overrides and
their expiry."""

import dataclasses
import datetime as dt

import pytest

from toil.gate import (
    ALLOW,
    DENY,
    INFO,
    NEEDS_APPROVAL,
    BudgetFact,
    ChangeFact,
    FreezeFact,
    GateFacts,
    IncidentFact,
    OverrideFact,
    ServiceFact,
    decide,
)

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
BILLING = ServiceFact(slug="billing-api", name="Billing API", tier=1, url="/services/billing-api/")
SEARCH = ServiceFact(slug="search", name="Search", tier=3, url="/services/search/")

BUDGET_FREEZE = BudgetFact("billing-api", "Availability", "frozen", "freeze", "/slo/a/")
BUDGET_REVIEW = BudgetFact("billing-api", "Latency", "caution", "review", "/slo/b/")
BUDGET_ALLOW = BudgetFact("billing-api", "Errors", "healthy", "allow", "/slo/c/")
SEV1 = IncidentFact("INC-2026-0001", "SEV1", "Payments down", frozenset({"billing-api"}), "/i/1/")
FREEZE = FreezeFact(7, "Weekend", NOW + dt.timedelta(hours=20), frozenset({"billing-api"}), "/f/7/")
OVERRIDE = OverrideFact(
    3, "billing-api", "Hotfix", "Sasha Lead", NOW + dt.timedelta(hours=1), "/o/"
)


def change(**fields) -> ChangeFact:
    values = {
        "id": 42,
        "category": "standard",
        "status": "approved",
        "service_slugs": frozenset({"billing-api"}),
        "window_start": NOW - dt.timedelta(hours=1),
        "window_end": NOW + dt.timedelta(hours=1),
        "approved": True,
        "approvals_given": 2,
        "approvals_required": 2,
        "sre_lead_approved": False,
        "implemented_at": None,
        "incident_reference": None,
        "overridden_freeze_ids": frozenset(),
        "url": "/changes/42/",
    }
    return ChangeFact(**(values | fields))


def facts(category="low-risk", services=(BILLING,), **fields) -> GateFacts:
    return GateFacts(now=NOW, category=category, services=tuple(services), **fields)


def codes(answer, effect=None):
    return sorted(r.code for r in answer.reasons if effect is None or r.effect == effect)


APPROVED_EMERGENCY = change(category="emergency", incident_reference="INC-2026-0001")

CASES = [
    # (name, facts, decision, blocking codes)
    ("a low-risk deploy with nothing in the way", facts(), ALLOW, []),
    ("a healthy budget is no reason", facts(budgets=(BUDGET_ALLOW,)), ALLOW, []),
    ("a budget that freezes changes", facts(budgets=(BUDGET_FREEZE,)), DENY, ["budget_freeze"]),
    ("a budget in review", facts(budgets=(BUDGET_REVIEW,)), NEEDS_APPROVAL, ["budget_review"]),
    ("an open SEV1 on the service", facts(incidents=(SEV1,)), DENY, ["incident"]),
    ("a freeze in force", facts(freezes=(FREEZE,)), DENY, ["freeze"]),
    (
        "a tier-1 service without a readiness review",
        facts(services_without_readiness=frozenset({"billing-api"})),
        DENY,
        ["readiness"],
    ),
    (
        "a tier-3 service needs no readiness review",
        facts(services=(SEARCH,), services_without_readiness=frozenset({"search"})),
        ALLOW,
        [],
    ),
    (
        "a standard deploy without a change request",
        facts("standard"),
        NEEDS_APPROVAL,
        ["change_required"],
    ),
    ("a standard deploy with an approved change", facts("standard", change=change()), ALLOW, []),
    (
        "a standard change still collecting approvals",
        facts("standard", change=change(status="submitted", approved=False, approvals_given=1)),
        NEEDS_APPROVAL,
        ["approvals_missing"],
    ),
    (
        "a rejected change",
        facts("standard", change=change(status="rejected", approved=False)),
        DENY,
        ["change_rejected"],
    ),
    (
        "a change outside its window",
        facts(
            "standard",
            change=change(
                window_start=NOW + dt.timedelta(hours=2), window_end=NOW + dt.timedelta(hours=4)
            ),
        ),
        NEEDS_APPROVAL,
        ["change_window"],
    ),
    (
        "a change not covering every service",
        facts("standard", services=(BILLING, SEARCH), change=change()),
        NEEDS_APPROVAL,
        ["change_scope"],
    ),
    (
        "a completed change does not cover new deploys",
        facts("standard", change=change(status="completed")),
        NEEDS_APPROVAL,
        ["change_status"],
    ),
    (
        "an emergency deploy without a change request",
        facts("emergency"),
        NEEDS_APPROVAL,
        ["change_required"],
    ),
    (
        "an emergency change awaiting its retroactive approval",
        facts(
            "emergency",
            change=change(
                category="emergency",
                status="in_progress",
                approved=False,
                implemented_at=NOW - dt.timedelta(hours=2),
            ),
        ),
        ALLOW,
        [],
    ),
    (
        "an emergency change past its 24 hours unapproved",
        facts(
            "emergency",
            change=change(
                category="emergency",
                status="in_progress",
                approved=False,
                implemented_at=NOW - dt.timedelta(hours=25),
            ),
        ),
        NEEDS_APPROVAL,
        ["approval_overdue"],
    ),
    (
        "an approved emergency passes a freeze and a budget freeze",
        facts("emergency", change=APPROVED_EMERGENCY, freezes=(FREEZE,), budgets=(BUDGET_FREEZE,)),
        ALLOW,
        [],
    ),
    (
        "an approved emergency passes the incident it fixes",
        facts("emergency", change=APPROVED_EMERGENCY, incidents=(SEV1,)),
        ALLOW,
        [],
    ),
    (
        "an approved emergency does not pass another incident",
        facts(
            "emergency",
            change=change(category="emergency", incident_reference="INC-2026-0099"),
            incidents=(SEV1,),
        ),
        DENY,
        ["incident"],
    ),
    (
        "an unapproved emergency does not pass a freeze",
        facts(
            "emergency",
            change=change(category="emergency", status="submitted", approved=False),
            freezes=(FREEZE,),
        ),
        DENY,
        ["freeze"],
    ),
    (
        "a change scheduled into the freeze by someone allowed to",
        facts("standard", change=change(overridden_freeze_ids=frozenset({7})), freezes=(FREEZE,)),
        ALLOW,
        [],
    ),
    (
        "an SRE lead's approval satisfies a budget in review",
        facts("standard", change=change(sre_lead_approved=True), budgets=(BUDGET_REVIEW,)),
        ALLOW,
        [],
    ),
    (
        "an override lifts the service's denials",
        facts(
            budgets=(BUDGET_FREEZE,), incidents=(SEV1,), freezes=(FREEZE,), overrides=(OVERRIDE,)
        ),
        ALLOW,
        [],
    ),
    (
        "an override leaves missing approvals missing",
        facts("standard", budgets=(BUDGET_FREEZE,), overrides=(OVERRIDE,)),
        NEEDS_APPROVAL,
        ["change_required"],
    ),
    (
        "an expired override lifts nothing",
        facts(
            budgets=(BUDGET_FREEZE,),
            overrides=(dataclasses.replace(OVERRIDE, expires_at=NOW - dt.timedelta(minutes=1)),),
        ),
        DENY,
        ["budget_freeze"],
    ),
    (
        "an override of one service leaves the other denied",
        facts(
            services=(BILLING, SEARCH),
            freezes=(
                dataclasses.replace(FREEZE, service_slugs=frozenset({"billing-api", "search"})),
            ),
            overrides=(OVERRIDE,),
        ),
        DENY,
        ["freeze"],
    ),
    (
        "every reason at once",
        facts(
            "standard",
            budgets=(BUDGET_FREEZE, BUDGET_REVIEW),
            incidents=(SEV1,),
            freezes=(FREEZE,),
            services_without_readiness=frozenset({"billing-api"}),
        ),
        DENY,
        ["budget_freeze", "budget_review", "change_required", "freeze", "incident", "readiness"],
    ),
]


@pytest.mark.parametrize(
    ("gate_facts", "decision", "blocking"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_gate_decides_from_each_reason_alone_and_combined(gate_facts, decision, blocking):
    answer = decide(gate_facts)
    assert answer.decision == decision
    assert sorted(r.code for r in answer.reasons if r.effect != INFO) == blocking


def test_every_reason_has_a_message_and_a_link_where_there_is_one():
    answer = decide(CASES[-1][1])
    for reason in answer.reasons:
        assert reason.message
        if reason.code != "change_required":
            assert reason.url.startswith("/")
    assert answer.reasons[0].effect == DENY  # denials first


def test_a_waived_reason_stays_in_the_answer_as_a_note():
    answer = decide(
        facts("emergency", change=APPROVED_EMERGENCY, freezes=(FREEZE,), budgets=(BUDGET_FREEZE,))
    )
    notes = {r.code: r.message for r in answer.reasons if r.effect == INFO}
    assert "approved emergency change passes it" in notes["freeze"]
    assert "approved emergency change passes it" in notes["budget_freeze"]


def test_an_override_is_named_in_the_answer_with_who_and_until_when():
    answer = decide(facts(incidents=(SEV1,), overrides=(OVERRIDE,)))
    override = next(r for r in answer.reasons if r.code == "override")
    assert "Sasha Lead" in override.message and "Hotfix" in override.message
    assert "2026-03-10 13:00 UTC" in override.message
    incident = next(r for r in answer.reasons if r.code == "incident")
    assert incident.effect == INFO and "Overridden by Sasha Lead" in incident.message


def test_an_incident_on_what_the_service_depends_on_names_the_service():
    on_database = dataclasses.replace(SEV1, service_slugs=frozenset({"billing-api"}))
    answer = decide(facts(incidents=(on_database,)))
    assert "Billing API or what they depend on" in answer.reasons[0].message


def test_facts_about_services_not_asked_about_are_ignored():
    other = dataclasses.replace(BUDGET_FREEZE, service_slug="search")
    assert decide(facts(budgets=(other,))).decision == ALLOW
    assert codes(decide(facts(budgets=(other,)))) == []
