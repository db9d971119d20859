"""The catalog's UI forms: who may choose what, and how input is read and checked."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.forms import add_action_error
from services.choices import Lifecycle, Tier
from services.forms import BackstageImportForm, ServiceForm, TeamForm
from tests.factories import ServiceFactory, TagFactory, TeamFactory

pytestmark = pytest.mark.django_db


def service_data(team, **changes):
    data = {
        "name": "Refunds",
        "slug": "",
        "owner_team": team.pk,
        "tier": Tier.TIER_2,
        "lifecycle": Lifecycle.EXPERIMENTAL,
        "tags": "",
    }
    return data | changes


def test_an_engineer_may_only_pick_the_teams_they_edit(owner, payments, search_team):
    form = ServiceForm(user=owner)
    assert list(form.fields["owner_team"].queryset) == [payments]


def test_a_viewer_membership_does_not_make_a_team_selectable(viewer, payments):
    form = ServiceForm(user=viewer)
    assert list(form.fields["owner_team"].queryset) == []


def test_an_sre_lead_may_pick_any_team(sre_lead, payments, search_team):
    form = ServiceForm(user=sre_lead)
    assert list(form.fields["owner_team"].queryset) == [payments, search_team]


def test_a_service_is_not_offered_as_its_own_dependency(service, owner):
    other = ServiceFactory(name="Ledger")
    form = ServiceForm(instance=service, user=owner)
    assert list(form.fields["depends_on"].queryset) == [other]


def test_an_existing_service_shows_its_tags_comma_separated(service, owner):
    service.tags.set([TagFactory(name="pci"), TagFactory(name="python")])
    form = ServiceForm(instance=service, user=owner)
    assert form.initial["tags"] == "pci, python"


def test_tags_are_read_from_a_comma_separated_list_ignoring_blanks(owner, payments):
    form = ServiceForm(service_data(payments, tags=" pci,, python , "), user=owner)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tags"] == ["pci", "python"]


def test_an_empty_slug_is_made_from_the_name(owner, payments):
    form = ServiceForm(service_data(payments, name="Card Vault"), user=owner)
    assert form.is_valid(), form.errors
    assert form.action_arguments()["slug"] == "card-vault"


def test_a_slug_made_from_the_name_must_still_be_unique(service, owner, payments):
    form = ServiceForm(service_data(payments, name="Payments API"), user=owner)
    assert not form.is_valid()
    assert form.errors["slug"] == ["Service with this Slug already exists."]


def test_personal_data_needs_a_retention_period(owner, payments):
    form = ServiceForm(service_data(payments, handles_personal_data="on"), user=owner)
    assert not form.is_valid()
    assert form.errors["data_retention_days"] == [
        "Required when the service handles personal data."
    ]


def test_links_without_a_scheme_are_read_as_https(owner, payments):
    form = ServiceForm(service_data(payments, runbook_url="wiki.example.test/rb"), user=owner)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["runbook_url"] == "https://wiki.example.test/rb"


def test_action_arguments_carry_every_field_and_the_relations(service, owner, payments):
    form = ServiceForm(service_data(payments, depends_on=[service.pk], tags="pci"), user=owner)
    assert form.is_valid(), form.errors
    arguments = form.action_arguments()
    assert arguments["owner_team"] == payments
    assert list(arguments["depends_on"]) == [service]
    assert arguments["tags"] == ["pci"]
    assert set(arguments) == {*ServiceForm.Meta.fields, "tags", "by", "readiness_override"}
    assert arguments["by"] == owner


def test_action_errors_land_on_their_field_or_on_top_when_the_form_lacks_it(owner):
    form = ServiceForm({}, user=owner)
    form.is_valid()
    add_action_error(form, ValidationError({"tier": "Too critical.", "backstage_ref": "Taken."}))
    add_action_error(form, ValidationError("Something else."))
    assert "Too critical." in form.errors["tier"]
    assert form.non_field_errors() == ["Taken.", "Something else."]


def test_a_team_needs_a_unique_name_and_a_valid_email(payments):
    form = TeamForm({"name": "Payments", "slug": "payments-2", "email": "nope"})
    assert not form.is_valid()
    assert form.errors["name"] == ["Team with this Name already exists."]
    assert form.errors["email"] == ["Enter a valid email address."]


def test_a_team_form_gives_the_action_its_fields(owner):
    form = TeamForm({"name": "Identity", "slug": "identity", "manager": owner.pk})
    assert form.is_valid(), form.errors
    assert form.action_arguments() == {
        "name": "Identity",
        "slug": "identity",
        "description": "",
        "email": "",
        "chat_channel": "",
        "manager": owner,
    }


def test_the_upload_form_reads_several_files_as_named_texts():
    files = [
        SimpleUploadedFile("a.yaml", b"kind: Group\n"),
        SimpleUploadedFile("b.yaml", "kind: Component # é\n".encode()),
    ]
    form = BackstageImportForm({}, {"files": files})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["files"] == [
        ("a.yaml", "kind: Group\n"),
        ("b.yaml", "kind: Component # é\n"),
    ]


def test_the_upload_form_requires_a_file():
    form = BackstageImportForm({}, {})
    assert form.errors["files"] == ["This field is required."]


def test_the_upload_form_refuses_a_file_that_is_not_utf8_text():
    form = BackstageImportForm({}, {"files": [SimpleUploadedFile("bin.yaml", b"\xff\xfe\x00")]})
    assert form.errors["files"] == ["bin.yaml is not UTF-8 text."]


def test_the_upload_form_refuses_a_file_over_one_megabyte():
    big = SimpleUploadedFile("big.yaml", b"#" * (BackstageImportForm.MAX_FILE_BYTES + 1))
    form = BackstageImportForm({}, {"files": [big]})
    assert form.errors["files"] == ["big.yaml is larger than 1 MB."]


def test_team_choices_are_the_teams_in_name_order(sre_lead):
    TeamFactory(name="Zeta")
    TeamFactory(name="Alpha")
    form = ServiceForm(user=sre_lead)
    assert [team.name for team in form.fields["owner_team"].queryset] == ["Alpha", "Zeta"]
