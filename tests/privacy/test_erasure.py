"""Erasure: the person's name, username and email leave every record of every app, while
incidents, post-mortems, timelines and history keep their rows, links and figures."""

import json

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import models
from django.db.models.functions import Cast
from knox.models import AuthToken

from incidents.models.incidents import Incident, TimelineEntry
from incidents.models.postmortems import ActionItem, PostMortem
from portal.api.tokens import token_create
from portal.privacy.export import personal_data_export
from portal.privacy.models import Erasure

pytestmark = pytest.mark.django_db

#: What erasure deletes on purpose (sign-in records, tokens, sessions) or adds (its log).
CHANGED_ON_PURPOSE = {
    AccessLog,
    AccessFailureLog,
    AccessAttempt,
    AuthToken,
    Session,
    Erasure,
}


def every_model():
    return [model for model in apps.get_models() if model._meta.managed and not model._meta.proxy]


def occurrences(strings) -> list[str]:
    """Every text and JSON column of every model of every app, searched for the strings."""
    found = []
    for model in every_model():
        for field in model._meta.concrete_fields:
            if not isinstance(field, (models.CharField, models.TextField, models.JSONField)):
                continue
            rows = model._default_manager.annotate(_text=Cast(field.name, models.TextField()))
            for text in strings:
                for pk in rows.filter(_text__icontains=text).values_list("pk", flat=True):
                    found.append(f"{model._meta.label}.{field.name} #{pk}: {text}")
    return found


def counts():
    return {
        model._meta.label: model._default_manager.count()
        for model in every_model()
        if model not in CHANGED_ON_PURPOSE
    }


def figures():
    return {
        "incidents": list(
            Incident.objects.order_by("pk").values_list(
                "reference",
                "severity",
                "status",
                "started_at",
                "acknowledged_at",
                "resolved_at",
                "commander_id",
                "declared_by_id",
                "team_id",
            )
        ),
        "timeline": list(
            TimelineEntry.objects.order_by("pk").values_list(
                "incident_id", "author_id", "kind", "at"
            )
        ),
        "postmortems": list(PostMortem.objects.values_list("incident_id", "author_id", "status")),
        "action_items": list(ActionItem.objects.values_list("owner_id", "status", "due_date")),
    }


def test_erasure_leaves_no_personal_string_anywhere_and_every_count_and_figure_unchanged(
    zelda, sre_lead, client_for
):
    token_create(user=zelda.user)
    assert occurrences(zelda.strings), "the fixture names the person in records"
    before_counts, before_figures = counts(), figures()

    call_command("erase_person", "zelda.quint", "--by", sre_lead.username)

    assert occurrences(zelda.strings) == []
    assert counts() == before_counts
    assert figures() == before_figures
    person = zelda.user
    person.refresh_from_db()
    assert person.username == f"former-member-{person.pk}"
    assert person.get_full_name() == f"former member #{person.pk}"
    assert (person.email, person.is_active, person.has_usable_password()) == ("", False, False)
    assert not AuthToken.objects.filter(user=person).exists()
    assert not AccessLog.objects.exists()
    # The incident still names its commander, now the former member.
    incident = Incident.objects.get()
    assert incident.commander == person
    note = TimelineEntry.objects.get(kind="note")
    assert note.text == f"former member #{person.pk} is rolling back the vault."
    erasure = Erasure.objects.get()
    assert (erasure.person, erasure.erased_by, erasure.via) == (person, sre_lead, "command")


def test_the_export_after_erasure_shows_nothing_personal(zelda):
    call_command("erase_person", "zelda.quint")
    zelda.user.refresh_from_db()

    export = json.dumps(personal_data_export(zelda.user)).lower()

    for text in zelda.strings:
        assert text not in export
    assert f"former-member-{zelda.user.pk}" in export


def test_an_sre_lead_erases_from_the_admin_and_a_second_erasure_is_refused(
    zelda, sre_lead, client_for
):
    client = client_for(sre_lead)
    url = "/admin/auth/user/"

    response = client.post(
        url, {"action": "erase_personal_data", "_selected_action": [zelda.user.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "Erased: Zelda Quintessa." in response.content.decode()
    assert Erasure.objects.get().via == "admin"
    zelda.user.refresh_from_db()
    with pytest.raises(CommandError, match="already been erased"):
        call_command("erase_person", zelda.user.username)
    assert occurrences(zelda.strings) == []


def test_erasure_is_logged_without_what_was_erased(zelda):
    call_command("erase_person", "zelda.quint")

    erasure = Erasure.objects.get()
    logged = json.dumps(
        {field.name: str(getattr(erasure, field.attname)) for field in Erasure._meta.fields}
    ).lower()
    for text in zelda.strings:
        assert text not in logged
