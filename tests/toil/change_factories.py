"""Builders of change requests, freezes and deployments for the change tests: records made
through the actions where their rules matter, straight in the database where a test needs a
state quickly."""

import datetime as dt
from importlib import import_module

import factory
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.utils import timezone

from portal.roles import forget_groups
from services.choices import ReviewStatus
from services.models.readiness import ReadinessReview
from services.models.slos import SLO, SLOStatus
from services.readiness import DEFAULT_CHECKLIST, approval_expiry
from services.selectors.readiness import latest_checklist
from toil.choices.changes import ChangeCategory, ChangeStatus, DeploymentStatus, FreezeScope
from toil.models.changes import (
    ChangeApproval,
    ChangeRequest,
    FreezeWindow,
    GateDecision,
    GateOverride,
)
from toil.models.deployments import Deployment, IncidentCause
from toil.selectors.changes import CHANGE_APPROVERS_GROUP


def readiness_approved(*services, at=None) -> None:
    """An approved readiness review of each service, valid from ``at`` (now by default) for
    READINESS_VALID_DAYS, recorded straight in the database: the deploy gate then has no
    readiness reason against these tier-1/2 production services, so a test sees the others
    (the review's own workflow is the readiness work's to test)."""
    at = at or timezone.now()
    checklist = latest_checklist(DEFAULT_CHECKLIST)
    ReadinessReview.objects.bulk_create(
        ReadinessReview(
            service=service,
            checklist=checklist,
            status=ReviewStatus.APPROVED,
            submitted_at=at,
            approved_at=at,
            expires_at=approval_expiry(at),
        )
        for service in services
    )


def make_change_approver(user):
    group, _ = Group.objects.get_or_create(name=CHANGE_APPROVERS_GROUP)
    user.groups.add(group)
    forget_groups(user)
    return user


class ChangeFactory(factory.django.DjangoModelFactory):
    """A standard draft planned for tomorrow; ``services=[...]`` sets its team too."""

    class Meta:
        model = ChangeRequest
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Change {n}")
    category = ChangeCategory.STANDARD
    status = ChangeStatus.DRAFT
    window_start = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    window_end = factory.LazyAttribute(lambda change: change.window_start + dt.timedelta(hours=2))
    rollback_plan = "Redeploy the previous version."

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)
            if self.team_id is None:
                self.team_id = extracted[0].owner_team_id
                self.save(update_fields=["team"])


def approved_change(services, *, author, approvers, window_start=None, hours=2, **fields):
    """A standard change approved by ``approvers`` (recorded as approvals), planned from
    ``window_start`` (now by default)."""
    start = window_start or timezone.now() - dt.timedelta(minutes=30)
    change = ChangeFactory(
        services=services,
        author=author,
        status=ChangeStatus.APPROVED,
        window_start=start,
        window_end=start + dt.timedelta(hours=hours),
        submitted_at=start - dt.timedelta(days=1),
        approved_at=start - dt.timedelta(hours=1),
        **fields,
    )
    for approver in approvers:
        ChangeApproval.objects.create(
            change=change, approver=approver, decision="approve", role="change_approver"
        )
    return change


class FreezeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FreezeWindow

    name = factory.Sequence(lambda n: f"Freeze {n}")
    scope = FreezeScope.ORGANISATION
    start = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    end = factory.LazyAttribute(lambda freeze: freeze.start + dt.timedelta(days=1))


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deployment

    version = factory.Sequence(lambda n: f"1.0.{n}")
    environment = "production"
    status = DeploymentStatus.SUCCEEDED
    finished_at = factory.LazyFunction(timezone.now)
    started_at = factory.LazyAttribute(lambda d: d.finished_at - dt.timedelta(minutes=10))


def budget_in_tier(service, tier: str, *, number=0) -> SLO:
    """An SLO of the service whose snapshot puts its budget in the default policy's ``tier``
    (healthy: allow, caution: review, frozen: freeze)."""
    # A test on a live server starts from emptied tables: the migration's default policy is
    # written again when it is gone.
    import_module("services.migrations.0003_default_budget_policy").create_default_policy(
        django_apps, None
    )
    slo = SLO.objects.create(
        service=service,
        name=f"Availability {number}",
        slug=f"availability-{number}",
        objective="99.9",
        events_query="sum(rate(ok_total[{{.window}}]))",
        total_query="sum(rate(all_total[{{.window}}]))",
    )
    now = timezone.now()
    SLOStatus.objects.create(
        slo=slo,
        computed_at=now,
        window_start=now - dt.timedelta(days=30),
        window_end=now,
        remaining={"healthy": 0.8, "caution": 0.3, "frozen": 0.02}[tier],
        policy_tier=tier,
    )
    return slo


#: The models of change_records(), in its order.
CHANGE_MODELS = (ChangeRequest, FreezeWindow, GateOverride, Deployment, IncidentCause, GateDecision)


def change_records(service, owner, incident) -> dict[str, int]:
    """One record of each kind the change API has, by the path segment naming it, for tests that
    go over every endpoint: {segment: primary key}."""
    from toil.actions.gate import gate_evaluate

    deployment = DeploymentFactory(
        service=service, finished_at=incident.started_at - dt.timedelta(minutes=30)
    )
    decision, _ = gate_evaluate(services=[service], category="low-risk", change=None, by=owner)
    return {
        "changes": ChangeFactory(services=[service], author=owner).pk,
        "freeze-windows": FreezeFactory(scope="service", service=service).pk,
        "gate-overrides": GateOverride.objects.create(
            service=service,
            reason="Hotfix",
            created_by=owner,
            expires_at=timezone.now() + dt.timedelta(hours=1),
        ).pk,
        "deployments": deployment.pk,
        "incident-causes": IncidentCause.objects.create(
            incident=incident, deployment=deployment
        ).pk,
        "gate-decisions": decision.pk,
    }
