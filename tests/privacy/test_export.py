"""A person's data export: on /me/ for themselves, with a command for SRE leads."""

import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def export_of(client_for, user) -> dict:
    response = client_for(user).get("/me/export.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Cache-Control"] == "no-store, private"
    assert response["Content-Disposition"].startswith("attachment;")
    return json.loads(response.content)


def test_the_export_holds_everything_the_portal_keeps_about_the_person(client_for, zelda):
    export = export_of(client_for, zelda.user)

    assert export["account"]["username"] == "zelda.quint"
    assert export["account"]["email"] == "Zelda.Quint@example.org"
    records = export["records"]
    assert [m["team_id"] for m in records["services.membership"]] == [
        m.team_id for m in zelda.user.memberships.all()
    ]
    assert records["services.team"][0]["linked_by"] == ["manager", "members"]
    (incident,) = records["incidents.incident"]
    assert set(incident["linked_by"]) >= {"commander", "declared_by", "subscribers"}
    assert any(
        entry["text"] == "Zelda Quintessa is rolling back the vault."
        for entry in records["incidents.timelineentry"]
    )
    assert records["incidents.postmortem"][0]["linked_by"] == ["author", "contributors"]
    assert records["incidents.actionitem"][0]["title"] == "Alert on clock skew"
    assert records["compliance.complianceattestation"][0]["note"].startswith("Exported Zelda")
    # Changes they made are in the history of the records they changed.
    assert records["incidents.historicalincident"]
    # The status update written by them, sent to their address among others.
    (update,) = records["incidents.statusupdate"]
    assert "zelda.quint@example.org" in update["recipients"]
    # The sign-in page's own records, and the emails sent to them.
    outcomes = [record["outcome"] for record in export["sign-in history"]]
    assert set(outcomes) == {"failed", "signed in"}
    assert export["emails sent to you"][0]["subject"] == "Card vault degraded"
    # Text elsewhere that names them: the admin's log of a change to their account.
    assert export["mentions"]["admin.logentry"][0]["object_repr"] == "zelda.quint"


def test_the_export_shows_nothing_of_other_people(client_for, zelda, owner):
    export = export_of(client_for, owner)

    assert export["account"]["username"] == "olivia"
    text = json.dumps(export["sign-in history"]) + json.dumps(export["emails sent to you"])
    assert "zelda" not in text.lower()


def test_an_sre_lead_exports_anyone_s_data_with_a_command(zelda, capsys):
    call_command("export_personal_data", "zelda.quint")

    export = json.loads(capsys.readouterr().out)
    assert export["account"]["last_name"] == "Quintessa"
    assert export["format"] == "reliability-portal personal data export, version 1"


def test_the_command_refuses_an_unknown_username(db):
    with pytest.raises(CommandError, match="No person has the username “nobody”"):
        call_command("export_personal_data", "nobody")


def test_the_me_page_offers_the_download(client_for, owner):
    response = client_for(owner).get("/me/")

    assert response.status_code == 200
    assert 'href="/me/export.json"' in response.content.decode()
