"""Reads for the deploy gate: the facts toil.gate decides from, and its recorded decisions
and overrides: each a fixed number of queries."""

import datetime as dt

from django.db.models import (
    Prefetch,
    QuerySet,
    Subquery,
)
from django.urls import reverse

from incidents.selectors import incidents as incident_selectors
from portal.prepared import prepared
from services.models.catalog import Service
from services.selectors import catalog as catalog_selectors
from services.selectors import readiness as readiness_selectors
from services.selectors import slos as slo_selectors
from toil import freezes, gate
from toil.models.changes import (
    ChangeRequest,
    FreezeWindow,
    GateDecision,
    GateDecisionService,
    GateOverride,
)
from toil.selectors.changes import approvals_required
from toil.selectors.freezes import freeze_covers, freezes_over_q, freezes_reaching_q


def services_without_valid_readiness(service_ids, *, now: dt.datetime) -> frozenset[int]:
    """The services among ``service_ids`` that the readiness rules count as in production
    without a valid review (tier 1 or 2, in production, with no approved and unexpired review,
    or one whose waivers have expired): one query. A service not yet in production is left to
    the readiness gate on entering production, which its deploys do not pass through."""
    return frozenset(
        readiness_selectors.production_without_review(now)
        .filter(pk__in=list(service_ids))
        .values_list("pk", flat=True)
    )


def active_overrides(service_ids, *, now: dt.datetime) -> QuerySet[GateOverride]:
    return (
        GateOverride.objects.filter(
            service_id__in=list(service_ids),
            revoked_at=None,
            starts_at__lte=now,
            expires_at__gt=now,
        )
        .select_related("service", "created_by")
        .order_by("expires_at")
    )


def _person(user) -> str:
    if user is None:
        return "someone"
    return user.get_full_name() or user.get_username()


def change_fact(change: ChangeRequest) -> gate.ChangeFact:
    """What the gate reads of a change request (fetched with change_for_gate() or
    change_detail())."""
    return gate.ChangeFact(
        id=change.pk,
        category=change.category,
        status=change.status,
        service_slugs=frozenset(service.slug for service in change.services.all()),
        window_start=change.window_start,
        window_end=change.window_end,
        approved=change.approved_at is not None,
        approvals_given=change.approvals_given,
        approvals_required=approvals_required(change),
        sre_lead_approved=change.sre_lead_approved,
        implemented_at=change.implemented_at,
        incident_reference=change.incident.reference if change.incident_id else None,
        overridden_freeze_ids=frozenset(f.pk for f in change.overridden_freezes.all()),
        url=change.get_absolute_url(),
    )


def gate_facts(
    *, services, category: str, change: ChangeRequest | None, now: dt.datetime
) -> gate.GateFacts:
    """Everything toil.gate.decide reads about deploying ``services`` now: their SLOs' budget
    tiers, open SEV1/SEV2 incidents on them or what they depend on, freezes in force, SRE leads'
    overrides, the change request (fetched with change_for_gate()) and readiness. Constant
    queries whatever the catalog's size."""
    services = list(services)
    ids = [service.pk for service in services]
    slugs = {service.pk: service.slug for service in services}

    budgets = tuple(
        gate.BudgetFact(
            service_slug=slugs[rule.service_id],
            slo_name=rule.slo_name,
            tier_name=rule.tier_name,
            change_rule=rule.change_rule,
            url=rule.url,
        )
        for rule in slo_selectors.slo_change_rules(ids)
        if rule.change_rule
    )

    dependencies = catalog_selectors.service_dependency_closure(ids)
    watched = set(ids).union(*dependencies.values())
    incidents = []
    for incident in incident_selectors.open_incidents_on(watched):
        touched = frozenset(
            slugs[pk]
            for pk in ids
            if pk in incident.service_ids or incident.service_ids & dependencies[pk]
        )
        incidents.append(
            gate.IncidentFact(
                reference=incident.reference,
                severity=incident.severity,
                title=incident.title,
                service_slugs=touched,
                url=incident.url,
            )
        )

    candidates = list(
        FreezeWindow.objects.filter(
            freezes_over_q(services) & freezes_reaching_q(now, now + dt.timedelta(microseconds=1))
        )
    )
    rules = [freeze.rule() for freeze in candidates]
    by_pk = {freeze.pk: freeze for freeze in candidates}
    freeze_facts = []
    for rule, _end in freezes.active_at(rules, now):
        freeze = by_pk[rule.key]
        freeze_facts.append(
            gate.FreezeFact(
                id=freeze.pk,
                name=freeze.name,
                until=freezes.frozen_until([rule], now),
                service_slugs=frozenset(slugs[pk] for pk in freeze_covers(freeze, services)),
                url=freeze.get_absolute_url(),
            )
        )

    overrides = tuple(
        gate.OverrideFact(
            id=override.pk,
            service_slug=override.service.slug,
            reason=override.reason,
            by=_person(override.created_by),
            expires_at=override.expires_at,
            url=override_url(override),
        )
        for override in active_overrides(ids, now=now)
    )

    unready = services_without_valid_readiness(ids, now=now)
    return gate.GateFacts(
        now=now,
        category=category,
        services=tuple(
            gate.ServiceFact(
                slug=service.slug,
                name=service.name,
                tier=service.tier,
                url=service.get_absolute_url(),
                readiness_url=reverse("readiness_service", args=[service.slug]),
            )
            for service in services
        ),
        budgets=budgets,
        incidents=tuple(incidents),
        freezes=tuple(freeze_facts),
        overrides=overrides,
        change=change_fact(change) if change is not None else None,
        services_without_readiness=frozenset(slugs[pk] for pk in unready if pk in slugs),
    )


def override_url(override: GateOverride) -> str:
    return reverse("gate_override_list") + f"?service={override.service.slug}"


def gate_decision_list() -> QuerySet[GateDecision]:
    return (
        GateDecision.objects.select_related("asked_by", "change")
        .prefetch_related(Prefetch("services", queryset=Service.objects.order_by("name")))
        .order_by("-asked_at", "-id")
    )


@prepared(shape=("limit",))
def service_gate_decisions(*, service: Service, limit: int) -> list[GateDecision]:
    """The service's latest gate decisions, newest first: one index range scan and their
    askers' names (the columns the service page shows); prepared."""
    links = GateDecisionService.objects.filter(service=service).order_by("-asked_at")[:limit]
    return (
        GateDecision.objects.filter(pk__in=Subquery(links.values("decision_id")))
        .select_related("asked_by")
        .only(
            "asked_at",
            "category",
            "version",
            "decision",
            "reasons",
            "asked_by",
            "asked_by__username",
            "asked_by__first_name",
            "asked_by__last_name",
        )
        .order_by("-asked_at", "-id")
    )


def gate_override_list() -> QuerySet[GateOverride]:
    return GateOverride.objects.select_related("service", "created_by").order_by(
        "-starts_at", "-id"
    )


# --- the calendar -----------------------------------------------------------------------------
