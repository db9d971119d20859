import datetime as dt

import factory
from django.db import transaction
from django.utils import timezone

from incidents.choices import (
    ActionItemKind,
    IncidentStatus,
    PostMortemStatus,
    Severity,
    StatusUpdateKind,
    TimelineKind,
)
from incidents.models.incidents import Incident, StatusUpdate, TimelineEntry
from incidents.models.postmortems import ActionItem, PostMortem
from incidents.references import next_incident_reference
from services.choices import MembershipRole
from tests.factories import MembershipFactory, TeamFactory, UserFactory


class IncidentFactory(factory.django.DjangoModelFactory):
    """An investigating SEV3 that started an hour ago; ``services=[...]`` also sets the
    owning team to the first service's team unless ``team`` is given."""

    class Meta:
        model = Incident
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Incident {n}")
    summary = "Requests fail."
    severity = Severity.SEV3
    status = IncidentStatus.INVESTIGATING
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    detected_at = factory.LazyAttribute(lambda incident: incident.started_at)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # References come from the real counter, so factories and actions never collide.
        with transaction.atomic():
            kwargs.setdefault("reference", next_incident_reference(kwargs["started_at"].year))
            return super()._create(model_class, *args, **kwargs)

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)
            if self.team_id is None:
                self.team_id = extracted[0].owner_team_id
                self.save(update_fields=["team"])


def resolved_incident(service, *, started, minutes, severity=Severity.SEV2):
    """A resolved incident on ``service``: detected after 5 minutes, acknowledged after 7,
    mitigated and resolved after ``minutes``."""
    return IncidentFactory(
        services=[service],
        severity=severity,
        status=IncidentStatus.RESOLVED,
        started_at=started,
        detected_at=started + dt.timedelta(minutes=5),
        acknowledged_at=started + dt.timedelta(minutes=7),
        mitigated_at=started + dt.timedelta(minutes=minutes),
        resolved_at=started + dt.timedelta(minutes=minutes),
    )


class TimelineEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEntry

    incident = factory.SubFactory(IncidentFactory)
    kind = TimelineKind.NOTE
    text = factory.Sequence(lambda n: f"Note {n}")
    author = factory.SubFactory(UserFactory)


class StatusUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusUpdate

    incident = factory.SubFactory(IncidentFactory)
    kind = StatusUpdateKind.UPDATE
    subject = factory.LazyAttribute(lambda update: f"[{update.incident.reference}] Update")
    body = "Still investigating."


class PostMortemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostMortem

    incident = factory.SubFactory(IncidentFactory)
    status = PostMortemStatus.DRAFT
    summary = "What happened."


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    postmortem = factory.SubFactory(PostMortemFactory)
    title = factory.Sequence(lambda n: f"Action {n}")
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=7))
    kind = ActionItemKind.PREVENT


def engineer(**names):
    """A new engineer of a team of their own (one who may review, or hold an incident role
    in that team's incidents)."""
    user = UserFactory(**names)
    MembershipFactory(user=user, team=TeamFactory(), role=MembershipRole.ENGINEER)
    return user
