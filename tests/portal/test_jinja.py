"""The Jinja2 layer (portal/jinja.py, portal/templatetags/jinja.py): the filters Jinja2
templates share with Django's, with Django's conventions kept; escaping; the `{% jinja %}`
tag; and every `.jinja` template compiling."""

import datetime as dt
import zoneinfo
from pathlib import Path

import jinja2
import pytest
from django.conf import settings
from django.template import Context, Template, engines
from django.test import RequestFactory
from django.utils import timezone

from portal.templatetags.lists import column_header

JINJA_DIR = Path(settings.BASE_DIR) / "jinja"


def jinja(source: str, **context) -> str:
    return engines["jinja2"].from_string(source).render(context).strip()


def test_text_is_escaped_and_django_safe_strings_are_not():
    html = jinja("{{ text }} {{ code|severity_badge }}", text="<b>&'\"", code="SEV1")
    assert "<b>" not in html and "&lt;b&gt;&amp;" in html
    assert '<span class="badge severity-sev1">SEV1</span>' in html


def test_a_filter_that_expects_local_time_gets_the_viewers_zone_as_in_django_templates():
    moment = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)  # 01:30 in Berlin, before DST
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        from_jinja = jinja("{{ when|moment }}", when=moment)
        from_django = Template("{% load incidents %}{{ when|moment }}").render(
            Context({"when": moment})
        )
    assert from_jinja == from_django.strip()
    assert "01:30" in from_jinja


def test_a_missing_time_gets_the_filters_placeholder():
    assert jinja("{{ when|moment('never') }}", when=None) == '<span class="muted">never</span>'


def test_pluralize_and_the_later_library_winning_a_shared_name():
    assert jinja("{{ 1|pluralize }}/{{ 2|pluralize }}") == "/s"
    # formats' and incidents' libraries both have `moment`; incidents' takes a placeholder.
    assert "none yet" in jinja("{{ None|moment('none yet') }}")


def test_sort_header_and_querystring_match_the_django_tag():
    request = RequestFactory().get("/incidents/?q=db&ordering=-started&page=2")
    html = jinja('{{ sort_header("started", "Started") }}', request=request)
    assert html == str(column_header(request, "started", "Started"))
    assert 'aria-sort="descending"' in html and "ordering=started" in html and "page" not in html
    assert jinja("{{ querystring(page=3) }}", request=request) == (
        "?q=db&amp;ordering=-started&amp;page=3"
    )


def test_url_gives_the_routes_path():
    assert jinja("{{ url('incident_detail', 'INC-2026-0001') }}") == "/incidents/INC-2026-0001/"


def test_the_jinja_tag_renders_with_the_django_templates_context(tmp_path, monkeypatch):
    environment = engines["jinja2"].env
    monkeypatch.setattr(environment, "loader", type(environment.loader)([str(tmp_path)]))
    environment.cache.clear()
    (tmp_path / "piece.jinja").write_text("{{ who }} {{ csrf_input }}")
    request = RequestFactory().get("/")
    html = Template('{% jinja "piece.jinja" %}').render(
        Context({"request": request, "who": "<ann>"})
    )
    environment.cache.clear()
    assert html.startswith("&lt;ann&gt; ")
    assert 'name="csrfmiddlewaretoken"' in html


@pytest.mark.parametrize(
    "name", sorted(str(path.relative_to(JINJA_DIR)) for path in JINJA_DIR.rglob("*.jinja"))
)
def test_every_jinja_template_compiles(name):
    engines["jinja2"].get_template(name)


def test_a_missing_name_is_empty_even_under_debug(settings):
    settings.DEBUG = True
    environment = engines["jinja2"].env
    assert environment.undefined is jinja2.Undefined
    assert jinja("[{{ missing }}]") == "[]"


@pytest.mark.django_db
def test_no_page_of_the_demo_prints_a_method_or_an_object_instead_of_its_value(client):
    """Jinja2 does not call what it is given, as Django's engine does: a ported template that
    forgets the parentheses prints "<bound method ...>". Every list and record page that
    Jinja2 templates render, for every demo record, in full and as its htmx fragment."""
    from django.contrib.auth import get_user_model

    from incidents.models.incidents import Incident
    from portal.demo.load import load_demo_data
    from services.models.catalog import Service

    load_demo_data(password="correct horse battery staple")
    client.force_login(get_user_model().objects.get(username="admin"))
    pages = ["/services/", "/slos/", "/incidents/", "/postmortems/", "/postmortems/?status=draft"]
    pages += [service.get_absolute_url() for service in Service.objects.all()]
    pages += [incident.get_absolute_url() for incident in Incident.objects.all()]
    for page in pages:
        for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}):
            response = client.get(page, **headers)
            assert response.status_code == 200, page
            html = response.content.decode()
            for slip in ("bound method", "object at 0x", "jinja2.", "Undefined", "{{", "{%"):
                assert slip not in html, f"{page}: {slip!r}"
