"""The deploy gate: may these services be deployed now, in this category, under this change
request? Pure: every input is in GateFacts (gathered by toil.selectors.gate.gate_facts),
and the answer is ``allow``, ``needs_approval`` or ``deny`` with every reason, each with a link.

What stands in the way (seed 002's pre-deploy checks, and the change rules of seed 001):

- ``budget_freeze`` (deny): an SLO of the services is in a budget-policy tier whose change rule
  is ``freeze``; ``budget_review`` (needs approval): its rule is ``review``, which an approved
  change request with an SRE lead's approval satisfies.
- ``incident`` (deny): an open SEV1 or SEV2 incident touches the services or what they depend
  on.
- ``freeze`` (deny): a freeze window is in force over the services, unless the change request
  was scheduled into it by someone allowed to override it.
- ``readiness`` (deny): a tier-1 or tier-2 service has no valid production-readiness review.
- The change request: a low-risk deploy needs none (its peer review is the code review); a
  standard deploy needs an approved standard change covering the services and the current
  time; an emergency deploy needs an approved emergency change, or one that may still be
  approved (within 24 hours of its implementation).

An approved emergency change passes freezes and budget freezes, and the incident it is linked
to (it is that incident's fix). An SRE lead's override of a service, while it lasts, turns that
service's denials into notes; missing approvals stay missing. Reasons that no longer stand in
the way are kept as notes (effect ``info``) so that the answer says what was waived and why.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from toil.approvals import APPROVABLE_AFTER_IMPLEMENTATION
from toil.choices.changes import ChangeCategory, ChangeStatus

ALLOW, NEEDS_APPROVAL, DENY = "allow", "needs_approval", "deny"
INFO = "info"

#: The change rules of budget-policy tiers (services.choices.ChangeRule's values).
RULE_FREEZE, RULE_REVIEW = "freeze", "review"
#: Services of these tiers need a valid readiness review to deploy.
READINESS_TIERS = frozenset({1, 2})
#: Statuses of a change request under which its deploys may go out.
DEPLOYABLE_STATUSES = frozenset(
    {ChangeStatus.APPROVED, ChangeStatus.SCHEDULED, ChangeStatus.IN_PROGRESS}
)
EMERGENCY_DEPLOYABLE_STATUSES = DEPLOYABLE_STATUSES | {ChangeStatus.SUBMITTED}


@dataclass(frozen=True)
class ServiceFact:
    slug: str
    name: str
    tier: int
    url: str
    #: Where its readiness reviews are (the readiness reason links there; its page otherwise).
    readiness_url: str = ""


@dataclass(frozen=True)
class BudgetFact:
    """An SLO of a gated service and the change rule of its budget's current tier."""

    service_slug: str
    slo_name: str
    tier_name: str
    change_rule: str
    url: str


@dataclass(frozen=True)
class IncidentFact:
    """An open SEV1/SEV2 incident; ``service_slugs``: the gated services it touches, itself or
    through what they depend on."""

    reference: str
    severity: str
    title: str
    service_slugs: frozenset[str]
    url: str


@dataclass(frozen=True)
class FreezeFact:
    """A freeze window in force now over ``service_slugs`` (of the gated services)."""

    id: int
    name: str
    until: datetime
    service_slugs: frozenset[str]
    url: str


@dataclass(frozen=True)
class OverrideFact:
    """An SRE lead's override of a service's denials, in force until ``expires_at``."""

    id: int
    service_slug: str
    reason: str
    by: str
    expires_at: datetime
    url: str


@dataclass(frozen=True)
class ChangeFact:
    id: int
    category: str
    status: str
    service_slugs: frozenset[str]
    window_start: datetime | None
    window_end: datetime | None
    approved: bool
    approvals_given: int
    approvals_required: int
    sre_lead_approved: bool
    implemented_at: datetime | None
    incident_reference: str | None
    overridden_freeze_ids: frozenset[int]
    url: str


@dataclass(frozen=True)
class GateFacts:
    now: datetime
    category: str
    services: tuple[ServiceFact, ...]
    budgets: tuple[BudgetFact, ...] = ()
    incidents: tuple[IncidentFact, ...] = ()
    freezes: tuple[FreezeFact, ...] = ()
    overrides: tuple[OverrideFact, ...] = ()
    change: ChangeFact | None = None
    #: Slugs of gated services that have no valid readiness review (any tier; the gate
    #: looks at tiers 1 and 2).
    services_without_readiness: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    url: str
    effect: str  # DENY, NEEDS_APPROVAL or INFO


@dataclass(frozen=True)
class GateAnswer:
    decision: str
    reasons: tuple[Reason, ...]


@dataclass
class _Blocker:
    """A denial on some services, which overrides of those services may lift."""

    code: str
    message: str
    url: str
    service_slugs: frozenset[str]


def _names(slugs: Iterable[str], names: dict[str, str]) -> str:
    return ", ".join(names.get(slug, slug) for slug in sorted(slugs, key=names.get))


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _change_reasons(facts: GateFacts, names: dict[str, str]) -> list[Reason]:
    category, change, now = facts.category, facts.change, facts.now
    if category == ChangeCategory.LOW_RISK and change is None:
        return []
    if change is None:
        if category == ChangeCategory.EMERGENCY:
            message = (
                "An emergency deploy needs an emergency change request, approved or still "
                "approvable (within 24 hours of its implementation)."
            )
        else:
            message = (
                "A standard deploy needs an approved change request covering these services "
                "and this time."
            )
        return [Reason("change_required", message, "", NEEDS_APPROVAL)]
    label = f"Change #{change.id}"
    if change.status == ChangeStatus.REJECTED:
        return [Reason("change_rejected", f"{label} was rejected.", change.url, DENY)]
    reasons = []
    uncovered = {service.slug for service in facts.services} - change.service_slugs
    if uncovered:
        reasons.append(
            Reason(
                "change_scope",
                f"{label} does not cover {_names(uncovered, names)}.",
                change.url,
                NEEDS_APPROVAL,
            )
        )
    if change.category == ChangeCategory.EMERGENCY:
        if change.status not in EMERGENCY_DEPLOYABLE_STATUSES:
            reasons.append(
                Reason(
                    "change_status",
                    f"{label} is {ChangeStatus(change.status).label.lower()}; "
                    "an emergency deploy needs it submitted.",
                    change.url,
                    NEEDS_APPROVAL,
                )
            )
        elif not change.approved:
            deadline = (
                change.implemented_at + APPROVABLE_AFTER_IMPLEMENTATION
                if change.implemented_at
                else None
            )
            if deadline is not None and now > deadline:
                reasons.append(
                    Reason(
                        "approval_overdue",
                        f"{label} was implemented more than 24 hours ago and is still not "
                        "approved.",
                        change.url,
                        NEEDS_APPROVAL,
                    )
                )
            else:
                reasons.append(
                    Reason(
                        "approval_pending",
                        f"{label} is not approved yet: the commander of its incident or an "
                        "SRE lead approves it within 24 hours of its implementation.",
                        change.url,
                        INFO,
                    )
                )
        return reasons
    if change.status not in DEPLOYABLE_STATUSES:
        if change.status in {ChangeStatus.DRAFT, ChangeStatus.SUBMITTED}:
            given, required = change.approvals_given, change.approvals_required
            reasons.append(
                Reason(
                    "approvals_missing",
                    f"{label} has {given} of the {required} approval"
                    f"{'s' if required != 1 else ''} it needs.",
                    change.url,
                    NEEDS_APPROVAL,
                )
            )
        else:
            reasons.append(
                Reason(
                    "change_status",
                    f"{label} is {ChangeStatus(change.status).label.lower()}; a new deploy "
                    "needs a change request that is approved.",
                    change.url,
                    NEEDS_APPROVAL,
                )
            )
        return reasons
    start, end = change.window_start, change.window_end
    if start is not None and end is not None and not start <= now < end:
        reasons.append(
            Reason(
                "change_window",
                f"{label} is planned from {_at(start)} to {_at(end)}, not now.",
                change.url,
                NEEDS_APPROVAL,
            )
        )
    return reasons


def decide(facts: GateFacts) -> GateAnswer:
    names = {service.slug: service.name for service in facts.services}
    gated = set(names)
    change = facts.change
    approved_emergency = (
        facts.category == ChangeCategory.EMERGENCY
        and change is not None
        and change.category == ChangeCategory.EMERGENCY
        and change.approved
    )
    reasons = _change_reasons(facts, names)
    blockers: list[_Blocker] = []

    for budget in facts.budgets:
        if budget.service_slug not in gated:
            continue
        where = f"{names[budget.service_slug]}: the SLO “{budget.slo_name}”"
        if budget.change_rule == RULE_FREEZE:
            message = f"{where} is in the {budget.tier_name} budget tier, which freezes changes."
            if approved_emergency:
                reasons.append(
                    Reason(
                        "budget_freeze",
                        f"{message} The approved emergency change passes it.",
                        budget.url,
                        INFO,
                    )
                )
            else:
                blockers.append(
                    _Blocker("budget_freeze", message, budget.url, frozenset({budget.service_slug}))
                )
        elif budget.change_rule == RULE_REVIEW:
            message = (
                f"{where} is in the {budget.tier_name} budget tier: changes need an SRE "
                "lead's approval."
            )
            satisfied = (
                change is not None
                and change.sre_lead_approved
                and change.status in EMERGENCY_DEPLOYABLE_STATUSES
            )
            reasons.append(
                Reason(
                    "budget_review",
                    message + (" An SRE lead approved the change request." if satisfied else ""),
                    budget.url,
                    INFO if satisfied else NEEDS_APPROVAL,
                )
            )

    for incident in facts.incidents:
        touched = incident.service_slugs & gated
        if not touched:
            continue
        message = (
            f"{incident.reference} ({incident.severity}, “{incident.title}”) is open on "
            f"{_names(touched, names)} or what they depend on."
        )
        if approved_emergency and change.incident_reference == incident.reference:
            reasons.append(
                Reason(
                    "incident",
                    f"{message} The approved emergency change is its fix.",
                    incident.url,
                    INFO,
                )
            )
        else:
            blockers.append(_Blocker("incident", message, incident.url, frozenset(touched)))

    for freeze in facts.freezes:
        covered = freeze.service_slugs & gated
        if not covered:
            continue
        message = (
            f"The freeze “{freeze.name}” is in force over {_names(covered, names)} until "
            f"{_at(freeze.until)}."
        )
        if approved_emergency:
            reasons.append(
                Reason(
                    "freeze",
                    f"{message} The approved emergency change passes it.",
                    freeze.url,
                    INFO,
                )
            )
        elif change is not None and freeze.id in change.overridden_freeze_ids:
            reasons.append(
                Reason(
                    "freeze",
                    f"{message} Change #{change.id} was scheduled into it by someone allowed to "
                    "override it.",
                    freeze.url,
                    INFO,
                )
            )
        else:
            blockers.append(_Blocker("freeze", message, freeze.url, frozenset(covered)))

    unready = {
        service.slug
        for service in facts.services
        if service.tier in READINESS_TIERS and service.slug in facts.services_without_readiness
    }
    for slug in sorted(unready):
        service = next(s for s in facts.services if s.slug == slug)
        blockers.append(
            _Blocker(
                "readiness",
                f"{service.name} is a tier-{service.tier} service without a valid "
                "production-readiness review.",
                service.readiness_url or service.url,
                frozenset({slug}),
            )
        )

    overrides = {}
    for override in facts.overrides:
        if override.service_slug in gated and override.expires_at > facts.now:
            overrides.setdefault(override.service_slug, override)
    for blocker in blockers:
        remaining = blocker.service_slugs - set(overrides)
        if remaining:
            reasons.append(Reason(blocker.code, blocker.message, blocker.url, DENY))
        else:
            lifted = ", ".join(
                f"{overrides[slug].by} until {_at(overrides[slug].expires_at)}"
                for slug in sorted(blocker.service_slugs)
            )
            reasons.append(
                Reason(
                    blocker.code, f"{blocker.message} Overridden by {lifted}.", blocker.url, INFO
                )
            )
    for slug, override in sorted(overrides.items()):
        reasons.append(
            Reason(
                "override",
                f"{override.by} overrides denials for {names[slug]} until "
                f"{_at(override.expires_at)}: {override.reason}",
                override.url,
                INFO,
            )
        )

    effects = {reason.effect for reason in reasons}
    if DENY in effects:
        decision = DENY
    elif NEEDS_APPROVAL in effects:
        decision = NEEDS_APPROVAL
    else:
        decision = ALLOW
    order = {DENY: 0, NEEDS_APPROVAL: 1, INFO: 2}
    ordered = sorted(reasons, key=lambda reason: order[reason.effect])
    return GateAnswer(decision=decision, reasons=tuple(ordered))
