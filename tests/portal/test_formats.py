"""The portal's one number and time format (portal/formats.py and its template filters)."""

import datetime as dt
import zoneinfo

import pytest
from django.template import Context, Template
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.formats import count_text, day_text, moment_text, multiple_text, percent_text


def test_percentages_have_one_decimal_unless_asked_and_keep_an_overspend_sign():
    assert percent_text(0.4213) == "42.1 %"
    assert percent_text(0.99942, 3) == "99.942 %"
    assert percent_text(-0.3) == "-30.0 %"
    assert percent_text(None) == "—"


def test_multiples_carry_no_float_noise():
    assert multiple_text(0.47000000000000003) == "0.47\u00d7"
    assert multiple_text(14.4) == "14.40\u00d7"
    assert multiple_text(None) == "—"


def test_counts_group_thousands():
    assert count_text(1234567) == "1\u202f234\u202f567"
    assert count_text(0) == "0"


def test_moments_are_in_the_viewers_zone_on_a_24_hour_clock():
    moment = dt.datetime(2026, 12, 1, 19, 5, tzinfo=dt.UTC)
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert moment_text(moment) == "1 Dec 2026, 14:05 EST"
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        assert moment_text(moment) == "1 Dec 2026, 20:05 CET"
    assert day_text(dt.date(2026, 3, 9)) == "9 Mar 2026"


@pytest.mark.parametrize(
    ("source", "value", "expected"),
    [
        ("{{ v|percent }}", 0.5, "50.0 %"),
        ("{{ v|multiple }}", 0.47000000000000003, "0.47\u00d7"),
        ("{{ v|count }}", 12345, "12\u202f345"),
        (
            "{{ v|moment }}",
            dt.datetime(2026, 12, 1, 19, 5, tzinfo=dt.UTC),
            '<time datetime="2026-12-01T19:05:00+00:00">1 Dec 2026, 19:05 UTC</time>',
        ),
        ("{{ v|moment }}", None, "—"),
    ],
)
def test_the_template_filters_write_the_same(source, value, expected):
    template = Template("{% load formats %}" + source)
    with timezone.override(dt.UTC):
        assert template.render(Context({"v": value})) == expected


@pytest.mark.django_db
def test_forms_name_the_zone_they_read_times_in(client_for, owner, service):
    client = client_for(owner)
    client.cookies["portal_tz"] = "Europe/Berlin"

    page = client.get("/incidents/declare/").content.decode()

    assert "Started (Europe/Berlin)" in page


@settings(max_examples=400, deadline=None)
@given(
    moment=st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2060, 12, 31)),
    zone=st.sampled_from(
        [
            "UTC",
            "Europe/Paris",
            "America/New_York",
            "Asia/Tokyo",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "America/St_Johns",
        ]
    ),
    fold=st.integers(0, 1),
)
def test_a_moment_is_written_as_django_s_date_format_writes_it(moment, zone, fold):
    """moment_parts() writes what date_format() writes for "c" and MOMENT_FORMAT, daylight
    saving changes (ambiguous and skipped hours) included."""
    from django.utils.dateformat import format as date_format

    from portal.formats import MOMENT_FORMAT, moment_parts

    local = moment.replace(tzinfo=zoneinfo.ZoneInfo(zone), fold=fold)
    assert moment_parts(local) == (date_format(local, "c"), date_format(local, MOMENT_FORMAT))


def test_moments_around_a_daylight_saving_change_keep_the_same_text():
    from django.utils.dateformat import format as date_format

    from portal.formats import MOMENT_FORMAT, moment_parts

    paris = zoneinfo.ZoneInfo("Europe/Paris")
    for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25)):  # an hour skipped, one twice
        for hour in range(24):
            for fold in (0, 1):
                local = dt.datetime(day.year, day.month, day.day, hour, 30, tzinfo=paris, fold=fold)
                assert moment_parts(local)[1] == date_format(local, MOMENT_FORMAT)
    assert moment_parts(dt.datetime(2026, 12, 1, 19, 5, tzinfo=paris)) == (
        "2026-12-01T19:05:00+01:00",
        "1 Dec 2026, 19:05 CET",
    )
