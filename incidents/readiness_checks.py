"""The readiness and maturity checks that read incidents, registered into the services app's
check registry (services.checks.registry) from IncidentsConfig.ready(): services imports no
incident code, yet its checklists and scorecards can name these checks.

- a fact provider, "incidents": for many services at once (three queries), the SEV1/SEV2
  post-mortems past due, the overdue high-priority action items and the recent SEV1/SEV2
  incidents still without a published post-mortem;
- three pure checks over those facts;
- receivers that mark the services an incident, post-mortem or action item touches as needing
  their checks run again (services.actions.scorecards.checks_mark_dirty), whatever wrote it
  (the UI, the API, the admin, the alert intake).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.urls import reverse

from incidents.choices import (
    ACTION_ITEM_PENDING_STATUSES,
    POSTMORTEM_REQUIRED_SEVERITIES,
    ActionItemPriority,
    PostMortemStatus,
)
from incidents.models.incidents import Incident
from incidents.models.postmortems import ActionItem, PostMortem
from incidents.postmortems import add_working_days
from portal.timezones import portal_date
from services.actions.scorecards import checks_mark_dirty
from services.checks.registry import (
    CheckResult,
    ServiceFacts,
    register_check,
    register_fact_provider,
)

PROVIDER = "incidents"
#: How far back "recent" SEV1/SEV2 incidents reach for the published post-mortem check.
RECENT_DAYS = 90
MAJOR = sorted(POSTMORTEM_REQUIRED_SEVERITIES)


@dataclass(frozen=True)
class IncidentFacts:
    """References of the service's incidents in each kind of trouble."""

    postmortems_past_due: tuple[str, ...] = ()
    overdue_high_priority_items: tuple[str, ...] = ()
    recent_without_published_postmortem: tuple[str, ...] = ()


def _due(resolved_at: datetime, due_at: datetime | None) -> datetime:
    return due_at or add_working_days(resolved_at, settings.POSTMORTEM_DUE_WORKING_DAYS)


def gather(service_ids: Sequence[int], now: datetime) -> dict[int, IncidentFacts]:
    """The incident facts of the services, in three queries."""
    past_due: dict[int, list[str]] = {}
    for service_id, reference in (
        PostMortem.objects.filter(
            incident__services__in=service_ids, incident__severity__in=MAJOR, due_at__lt=now
        )
        .exclude(status=PostMortemStatus.PUBLISHED)
        .order_by("due_at")
        .values_list("incident__services", "incident__reference")
    ):
        past_due.setdefault(service_id, []).append(reference)
    overdue: dict[int, list[str]] = {}
    for service_id, reference in (
        ActionItem.objects.filter(
            postmortem__incident__services__in=service_ids,
            priority=ActionItemPriority.P1,
            status__in=ACTION_ITEM_PENDING_STATUSES,
            due_date__lt=portal_date(now),
        )
        .order_by("due_date")
        .values_list("postmortem__incident__services", "postmortem__incident__reference")
    ):
        overdue.setdefault(service_id, []).append(reference)
    unpublished: dict[int, list[str]] = {}
    for service_id, reference, resolved_at, status, due_at in (
        Incident.objects.filter(
            services__in=service_ids,
            severity__in=MAJOR,
            started_at__gte=now - timedelta(days=RECENT_DAYS),
            resolved_at__isnull=False,
        )
        .order_by("started_at")
        .values_list(
            "services", "reference", "resolved_at", "postmortem__status", "postmortem__due_at"
        )
    ):
        # One still within its due date is not late yet: the first check covers lateness.
        if status != PostMortemStatus.PUBLISHED and _due(resolved_at, due_at) <= now:
            unpublished.setdefault(service_id, []).append(reference)
    return {
        service_id: IncidentFacts(
            postmortems_past_due=tuple(dict.fromkeys(past_due.get(service_id, ()))),
            overdue_high_priority_items=tuple(overdue.get(service_id, ())),
            recent_without_published_postmortem=tuple(unpublished.get(service_id, ())),
        )
        for service_id in set(past_due) | set(overdue) | set(unpublished)
    }


def _facts(facts: ServiceFacts) -> IncidentFacts:
    return facts.extra.get(PROVIDER) or IncidentFacts()


def _postmortem(reference: str) -> str:
    return reverse("postmortem_detail", args=[reference])


def _listed(references: Sequence[str]) -> str:
    shown = ", ".join(references[:3])
    return shown + (f" and {len(references) - 3} more" if len(references) > 3 else "")


@register_check("postmortems_on_time", "No SEV1/SEV2 post-mortem past due")
def postmortems_on_time(facts: ServiceFacts) -> CheckResult:
    late = _facts(facts).postmortems_past_due
    if late:
        return CheckResult(False, f"Post-mortem past due: {_listed(late)}.", _postmortem(late[0]))
    return CheckResult(True, "No SEV1 or SEV2 post-mortem is past due.")


@register_check("action_items_on_time", "No overdue high-priority action item")
def action_items_on_time(facts: ServiceFacts) -> CheckResult:
    overdue = _facts(facts).overdue_high_priority_items
    if overdue:
        count = len(overdue)
        return CheckResult(
            False,
            f"{count} overdue P1 action item{'s' if count != 1 else ''} "
            f"(from {_listed(list(dict.fromkeys(overdue)))}).",
            _postmortem(overdue[0]),
        )
    return CheckResult(True, "No high-priority action item is overdue.")


@register_check("recent_postmortems_published", "Recent SEV1/SEV2 post-mortems published")
def recent_postmortems_published(facts: ServiceFacts) -> CheckResult:
    missing = _facts(facts).recent_without_published_postmortem
    if missing:
        return CheckResult(
            False,
            f"No published post-mortem for {_listed(missing)} (last {RECENT_DAYS} days).",
            _postmortem(missing[0]),
        )
    return CheckResult(True, f"Every SEV1 and SEV2 of the last {RECENT_DAYS} days has one.")


# --- what changes the checks' answers ---------------------------------------------------------


def _mark_services_of(incident_ids) -> None:
    service_ids = Incident.services.through.objects.filter(incident_id__in=incident_ids)
    checks_mark_dirty(service_ids=list(service_ids.values_list("service_id", flat=True)))


def _incident_changed(sender, instance, **kwargs):
    _mark_services_of([instance.pk])


def _postmortem_changed(sender, instance, **kwargs):
    _mark_services_of([instance.incident_id])


def _action_item_changed(sender, instance, **kwargs):
    postmortem = PostMortem.objects.filter(pk=instance.postmortem_id).values("incident_id")
    _mark_services_of(postmortem)


def _affected_services_changed(sender, instance, action, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "pre_clear"}:
        return
    if isinstance(instance, Incident):
        if action == "pre_clear":
            _mark_services_of([instance.pk])
        else:
            checks_mark_dirty(service_ids=list(pk_set or ()))
    else:  # the reverse side: a service's incidents changed
        checks_mark_dirty(service_ids=[instance.pk])


def register() -> None:
    register_fact_provider(PROVIDER, gather, IncidentFacts)
    for model, receiver in (
        (Incident, _incident_changed),
        (PostMortem, _postmortem_changed),
        (ActionItem, _action_item_changed),
    ):
        post_save.connect(receiver, sender=model, dispatch_uid=f"readiness-{model.__name__}")
        # Before the delete: afterwards the incident's services are gone with it.
        pre_delete.connect(receiver, sender=model, dispatch_uid=f"readiness-del-{model.__name__}")
    m2m_changed.connect(
        _affected_services_changed,
        sender=Incident.services.through,
        dispatch_uid="readiness-incident-services",
    )
