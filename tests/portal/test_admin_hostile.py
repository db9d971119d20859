"""Every admin form sent back with values no browser would send (a key that is no number,
a negative cron field, JSON of the wrong shape): the form shows its errors, never a 500."""

import re
from html import unescape

import pytest
from django.contrib import admin
from django.test import Client

from portal.autocomplete import AutocompleteGuard
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', re.S)
SKIPPED = {"csrfmiddlewaretoken", "_save", "_addanother", "_continue"}
MANAGEMENT = re.compile(
    r'name="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="([^"]*)"'
)
HOSTILE = ["", "-1", "x" * 300, "abc\x00", "[1, 2]", "99999999999999999999999"]


def add_pages():
    return sorted(
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/add/"
        for model in admin.site._registry
    )


@pytest.fixture
def root(django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.test", "x-9dk2m1qp")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", add_pages())
def test_an_admin_form_answers_hostile_values_with_its_errors(root, page):
    ServiceFactory()  # a record for the choices to list
    shown = root.get(page)
    if shown.status_code == 403:  # records only the portal writes
        return
    assert shown.status_code == 200, page
    names = {unescape(name) for name in FIELD.findall(shown.text)} - SKIPPED
    for value in HOSTILE:
        sent = dict.fromkeys(names, value)
        # Inline formsets keep their management counts, so that their forms are read.
        sent |= dict(MANAGEMENT.findall(shown.text))
        answer = root.post(page, sent)
        assert answer.status_code < 500, (page, value)


def test_every_admin_with_autocomplete_fields_guards_them():
    """Django's autocomplete widget raises on a value that is no record's key."""
    unguarded = []
    for model_admin in admin.site._registry.values():
        for each in (
            model_admin,
            *(inline(model_admin.model, admin.site) for inline in model_admin.inlines),
        ):
            if each.autocomplete_fields and not isinstance(each, AutocompleteGuard):
                unguarded.append(type(each).__name__)
    assert unguarded == []
