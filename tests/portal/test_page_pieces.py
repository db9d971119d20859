"""The tags and filters that pages repeat on every row or list (portal/templatetags,
services/templatetags/catalog.py, incidents/templatetags/incidents.py): the markup they
write, its escaping, and that the included partials they replaced still write the same."""

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from services.filters import ServiceFilterSet
from services.models.catalog import Service
from tests.factories import ServiceFactory, TagFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def render(source: str, **context) -> str:
    return Template(source).render(Context(context)).strip()


# --- Lists ---------------------------------------------------------------------------------


def sort_header(query: str, key: str, default: str = "name") -> str:
    request = RequestFactory().get(f"/services/{query}")
    template = Template("{% load lists %}{% sort_header key label default=default %}")
    context = {"request": request, "key": key, "label": "Name <b>", "default": default}
    return template.render(Context(context))


def test_a_column_sorted_ascending_says_so_and_links_to_the_other_way_on_the_first_page():
    html = sort_header("?q=api&page=3", "name")
    assert html == (
        '<th scope="col" aria-sort="ascending"><a href="?q=api&amp;ordering=-name" '
        'hx-get="?q=api&amp;ordering=-name">Name &lt;b&gt; <span aria-hidden="true">▲</span>'
        "</a></th>"
    )


def test_a_column_sorted_descending_links_back_to_ascending():
    html = sort_header("?ordering=-tier", "tier")
    assert ' aria-sort="descending"' in html
    assert 'href="?ordering=tier"' in html and "▼" in html


def test_another_column_has_no_sort_state_and_links_to_its_own_order():
    html = sort_header("?ordering=tier", "name")
    assert "aria-sort" not in html and "▲" not in html and "▼" not in html
    assert 'href="?ordering=name"' in html


def filter_select(query: str) -> str:
    filterset = ServiceFilterSet(
        RequestFactory().get(f"/services/{query}").GET, queryset=Service.objects.all()
    )
    template = Template('{% load lists %}{% filter_select form.team "All teams" %}')
    return template.render(Context({"form": filterset.form}))


def test_a_filter_lists_each_team_and_marks_the_chosen_ones():
    TeamFactory(name="Search & Ranking", slug="search")
    TeamFactory(name="Payments", slug="payments")
    TeamFactory(name="Identity", slug="identity")
    html = filter_select("?team=search&team=identity")
    assert html == (
        '<div class="filter"><label for="id_team">Team</label>'
        '<select name="team" id="id_team" multiple size="4"><option value="">All teams</option>'
        '<option value="identity" selected>Identity</option>'
        '<option value="payments">Payments</option>'
        '<option value="search" selected>Search &amp; Ranking</option></select></div>'
    )


def test_a_filter_takes_one_choice_unless_several_are_chosen():
    """A select of one choice shows the one chosen: several chosen need a select that shows
    (and sends back) them all. The "any" option's empty value is no filter."""
    TeamFactory(name="Payments", slug="payments")
    TeamFactory(name="Identity", slug="identity")
    for query in ("", "?team=payments", "?team=&team=payments", "?team="):
        html = filter_select(query)
        assert '<select name="team" id="id_team">' in html, query
        assert html.count(" selected") == (1 if "payments" in query else 0), query


def test_a_filter_reads_its_options_in_one_query(django_assert_num_queries):
    for number in range(30):
        TeamFactory(slug=f"team-{number:02}")
    with django_assert_num_queries(1):
        html = filter_select("")
    assert html.count("<option") == 31


def test_a_filter_of_named_records_writes_what_the_field_s_own_choices_write(monkeypatch):
    """Teams are read as (slug, name) rows rather than records: the options must be the ones
    the form field's iterator gives, null option and order included."""
    TeamFactory(name="search & ranking", slug="search")
    TeamFactory(name="Payments", slug="payments")
    TeamFactory(name="<Identity>", slug="identity")
    from portal.templatetags import lists
    from services.models.catalog import Team

    filterset = ServiceFilterSet(
        RequestFactory().get("/services/?team=payments").GET, queryset=Service.objects.all()
    )
    field = filterset.form["team"]
    assert lists._model_choices(field.field) is not None
    read_as_rows = list(lists._options(field))
    monkeypatch.delattr(Team, "CHOICE_LABEL_FIELD")
    assert lists._model_choices(field.field) is None
    read_as_records = [
        (str(value), selected, label) for value, selected, label in lists._options(field)
    ]
    assert [(str(value), selected, label) for value, selected, label in read_as_rows] == (
        read_as_records
    )
    chosen = [(str(value), label) for value, selected, label in read_as_rows if selected]
    assert chosen == [("payments", "Payments")]
    assert {label for _, _, label in read_as_rows} >= {"<Identity>", "search & ranking"}


def test_the_old_partials_write_what_the_tags_write():
    TeamFactory(name="Payments", slug="payments")
    request = RequestFactory().get("/services/?team=payments&ordering=-name")
    filterset = ServiceFilterSet(request.GET, queryset=Service.objects.all())
    context = {"request": request, "field": filterset.form["team"], "form": filterset.form}
    old = Template(
        '{% include "partials/filter_select.html" with any_label="All teams" %}'
        '{% include "partials/sort_header.html" with key="name" label="Name" default_key="x" %}'
    ).render(Context(context))
    new = Template(
        '{% load lists %}{% filter_select form.team "All teams" %}'
        '{% sort_header "name" "Name" default="x" %}'
    ).render(Context(context))
    assert old.replace("\n", "") == new


# --- People --------------------------------------------------------------------------------


def test_a_person_is_named_by_full_name_else_username_else_the_text_for_nobody():
    named = UserFactory(username="tom", first_name="Tom", last_name="O'Neil <3")
    bare = UserFactory(username="bot")
    source = (
        '{% load people %}{{ a|person }}|{{ b|person }}|{{ c|person }}|{{ c|person:"Nobody yet" }}'
    )
    assert render(source, a=named, b=bare, c=None) == "Tom O&#x27;Neil &lt;3|bot|—|Nobody yet"


# --- The catalog ---------------------------------------------------------------------------


def test_a_service_shows_its_tier_and_lifecycle_as_badges():
    service = ServiceFactory(tier=1, lifecycle="deprecated")
    assert render("{% load catalog %}{{ s|tier_badge }} {{ s|lifecycle_badge }}", s=service) == (
        '<span class="badge tier-1" title="Tier 1 (critical)">Tier 1</span> '
        '<span class="badge lifecycle-deprecated">Deprecated</span>'
    )


def test_tags_link_to_the_catalog_filtered_by_each():
    service = ServiceFactory(tags=[TagFactory(name="C++"), TagFactory(name="Go", slug="go")])
    html = render("{% load catalog %}{{ s.tags.all|tag_links }}", s=service)
    assert html == (
        '<ul class="tags"><li><a class="tag" href="/services/?tag=c%2B%2B">C++</a></li>'
        '<li><a class="tag" href="/services/?tag=go">Go</a></li></ul>'
    )
    assert render("{% load catalog %}{{ s.tags.all|tag_links }}", s=ServiceFactory()) == ""


# --- Incidents -----------------------------------------------------------------------------


def test_a_moment_is_shown_in_the_viewer_s_zone_and_machine_readable():
    moment = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    with timezone.override("Asia/Tokyo"):
        html = render("{% load incidents %}{{ m|moment }}", m=moment)
    assert html == '<time datetime="2026-03-02T08:30:00+09:00">2 Mar 2026, 08:30 JST</time>'
    source = '{% load incidents %}{{ m|moment }}|{{ m|moment:"Not yet" }}'
    assert (
        render(source, m=None) == '<span class="muted">—</span>|<span class="muted">Not yet</span>'
    )


def test_severity_and_status_badges():
    from incidents.choices import IncidentStatus
    from incidents.models.incidents import Incident

    incident = Incident(severity="SEV2", status=IncidentStatus.MONITORING)
    html = render(
        "{% load incidents %}{{ i.severity|severity_badge }} {{ i|status_badge }}", i=incident
    )
    assert html == (
        '<span class="badge severity-sev2">SEV2</span> '
        '<span class="badge incident-status-monitoring">Monitoring</span>'
    )


def test_metric_rows_escape_names_and_show_durations():
    rows = [
        {"name": "<Payments>", "counts": [1, 0, 2, 3], "total": 6, "mtbf": dt.timedelta(hours=5)},
        {"name": "Search", "counts": [0, 0, 0, 1], "total": 1, "mtbf": None},
    ]
    assert render("{% load incidents %}{{ rows|metric_rows }}", rows=rows) == (
        '<tr><td>&lt;Payments&gt;</td><td class="number">1</td><td class="number">0</td>'
        '<td class="number">2</td><td class="number">3</td><td class="number">6</td>'
        '<td class="number">5 h</td></tr>'
        '<tr><td>Search</td><td class="number">0</td><td class="number">0</td>'
        '<td class="number">0</td><td class="number">1</td><td class="number">1</td>'
        '<td class="number">—</td></tr>'
    )
