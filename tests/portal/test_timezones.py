import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from portal.profile.models import validate_time_zone
from portal.timezones import COOKIE, ViewerTimezoneMiddleware, time_zone_error, zone_named
from toil.forms.changes import TimeZoneField
from toil.models.changes import _zone_errors

MOMENT = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)


def render_moment(request):
    """What a page shows for a stored UTC time, in the zone active for the request."""
    from django.http import HttpResponse

    return HttpResponse(Template("{{ moment|date:'H:i e' }}").render(Context({"moment": MOMENT})))


def shown_with_cookie(value):
    request = RequestFactory().get("/")
    if value is not None:
        request.COOKIES[COOKIE] = value
    return ViewerTimezoneMiddleware(render_moment)(request).content.decode()


def test_times_are_shown_in_the_zone_the_browser_reported():
    assert shown_with_cookie("Europe/Berlin") == "14:00 CEST"


def test_without_a_reported_zone_times_are_shown_in_the_portal_default():
    assert shown_with_cookie(None) == "12:00 UTC"


@pytest.mark.parametrize("value", ["Mars/Olympus", "../../etc/passwd", ""])
def test_an_unknown_zone_in_the_cookie_falls_back_to_the_default(value):
    assert shown_with_cookie(value) == "12:00 UTC"


def test_the_zone_does_not_leak_into_the_next_request():
    shown_with_cookie("Asia/Tokyo")

    assert timezone.get_current_timezone_name() == "UTC"


@pytest.mark.django_db
def test_every_page_loads_the_script_that_reports_the_zone(client_for, viewer):
    page = client_for(viewer).get("/services/")

    assert b"js/timezone.js" in page.content


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", "Europe/", ""])
def test_a_typed_zone_is_refused_in_the_same_words_by_the_profile_the_forms_and_the_models(name):
    message = f"Unknown time zone “{name}”."
    assert time_zone_error(name) == message and zone_named(name) is None
    with pytest.raises(ValidationError) as refused:
        validate_time_zone(name)
    assert refused.value.messages == [message]
    with pytest.raises(ValidationError) as refused:
        TimeZoneField(required=False).clean(name)
    assert refused.value.messages == [message]
    assert _zone_errors(name) == {"time_zone": message}


def test_a_known_zone_passes_everywhere():
    assert time_zone_error("Asia/Tokyo") is None
    assert zone_named("Asia/Tokyo").key == "Asia/Tokyo"
    validate_time_zone("Asia/Tokyo")
    assert TimeZoneField().clean(" Asia/Tokyo ") == "Asia/Tokyo"
