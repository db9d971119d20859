"""Prepared statements (portal.prepared): built and compiled once per shape, run with each
call's own values, against the suite's PostgreSQL. The suite runs with
PREPARED_QUERIES_CHECK on, which these tests also turn off where they check the statement
alone."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count, Prefetch, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from portal.prepared import MAX_SHAPES, PreparedQueryError, prepared
from services.choices import Lifecycle, Tier
from services.models.catalog import Service, Tag, Team
from tests.factories import ServiceFactory, TagFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unchecked(settings):
    """The statement alone, without the suite's comparison with a fresh build."""
    settings.PREPARED_QUERIES_CHECK = False


def _queries(function, **values):
    with CaptureQueriesContext(connection) as captured:
        rows = function(**values)
    return rows, len(captured.captured_queries)


def test_each_call_gets_its_own_rows_from_one_statement_per_shape(unchecked):
    payments, search = TeamFactory(), TeamFactory()
    mine = ServiceFactory(owner_team=payments, name="Ledger")
    theirs = ServiceFactory(owner_team=search, name="Indexer")

    @prepared
    def services_of(*, team):
        return Service.objects.filter(owner_team=team).order_by("name")

    assert services_of(team=payments) == [mine]
    assert services_of(team=search) == [theirs]
    assert len(services_of.statements) == 1


def test_numbers_texts_times_days_and_records_take_their_stand_ins_places(unchecked):
    team = TeamFactory(name="Payments")
    ledger = ServiceFactory(owner_team=team, slug="ledger", tier=Tier.TIER_1)
    ServiceFactory(owner_team=team, slug="ledger-archive", tier=Tier.TIER_3)
    now = timezone.now()

    @prepared
    def matching(*, team, slug, tier, before, since_day):
        return Service.objects.filter(
            owner_team=team,
            slug=slug,
            tier=tier,
            created_at__lt=before,
            created_at__date__gte=since_day,
        )

    found = matching(
        team=team,
        slug="ledger",
        tier=Tier.TIER_1.value,
        before=now + dt.timedelta(minutes=1),
        since_day=now.date() - dt.timedelta(days=1),
    )
    assert found == [ledger]
    assert (
        matching(
            team=team,
            slug="ledger",
            tier=Tier.TIER_1.value,
            before=now - dt.timedelta(days=1),
            since_day=now.date() - dt.timedelta(days=1),
        )
        == []
    )
    assert len(matching.statements) == 1


@pytest.fixture
def three_teams():
    """Three teams, a service each, and a fresh prepared build of the services of teams."""
    teams = TeamFactory.create_batch(3)
    services = [ServiceFactory(owner_team=team) for team in teams]

    @prepared
    def services_of(*, team_ids):
        return Service.objects.filter(owner_team_id__in=team_ids).order_by("pk")

    return teams, services, services_of


def test_a_list_is_one_shape_per_length_and_a_repeated_value_counts_once(unchecked, three_teams):
    teams, services, services_of = three_teams
    assert services_of(team_ids=[teams[0].pk, teams[1].pk]) == services[:2]
    assert services_of(team_ids=[teams[2].pk, teams[1].pk]) == services[1:]
    assert services_of(team_ids=(teams[0].pk, teams[0].pk, teams[2].pk)) == [
        services[0],
        services[2],
    ]
    assert len(services_of.statements) == 1
    assert services_of(team_ids=[team.pk for team in teams]) == services
    assert len(services_of.statements) == 2


def test_an_empty_list_selects_nothing_without_asking_the_database():
    ServiceFactory()

    @prepared
    def services_of(*, team_ids):
        return Service.objects.filter(owner_team_id__in=team_ids)

    rows, queries = _queries(services_of, team_ids=[])
    assert (rows, queries) == ([], 0)


def test_a_call_is_one_query(unchecked):
    team = TeamFactory()
    ServiceFactory.create_batch(2, owner_team=team)

    @prepared
    def services_of(*, team):
        return Service.objects.filter(owner_team=team).select_related("owner_team")

    services_of(team=team)
    rows, queries = _queries(services_of, team=team)
    assert queries == 1
    assert {service.owner_team.name for service in rows} == {team.name}


def test_none_and_booleans_are_part_of_the_shape(unchecked):
    team = TeamFactory()
    with_manager = TeamFactory(manager=UserFactory())

    @prepared
    def teams(*, manager, has_manager):
        if has_manager:
            return Team.objects.exclude(manager=None).order_by("pk")
        return Team.objects.filter(manager=manager).order_by("pk")

    assert teams(manager=None, has_manager=False) == [team]
    assert teams(manager=None, has_manager=True) == [with_manager]
    assert teams(manager=with_manager.manager, has_manager=False) == [with_manager]
    assert len(teams.statements) == 3


def test_related_rows_annotations_values_and_prefetches_come_out_as_from_the_queryset():
    team = TeamFactory(name="Payments")
    tag = TagFactory(name="pci")
    service = ServiceFactory(owner_team=team, tags=[tag])
    ServiceFactory(owner_team=team)

    @prepared
    def teams(*, pk):
        return (
            Team.objects.filter(pk=pk)
            .annotate(services_owned=Count("services"))
            .prefetch_related(Prefetch("services", queryset=Service.objects.order_by("pk")))
        )

    @prepared
    def tag_names(*, service):
        return Tag.objects.filter(services=service).values_list("name", flat=True)

    (found,) = teams(pk=team.pk)
    assert found.services_owned == 2
    assert next(iter(found.services.all())) == service
    assert tag_names(service=service) == ["pci"]


def test_a_signed_in_person_is_read_through_their_lazy_object(unchecked):
    person = UserFactory()
    team = TeamFactory(manager=person)

    @prepared
    def managed_by(*, user):
        return Team.objects.filter(manager=user)

    assert managed_by(user=SimpleLazyObject(lambda: person)) == [team]


def test_arguments_named_as_shape_may_be_written_into_the_sql(unchecked):
    team = TeamFactory()
    services = ServiceFactory.create_batch(3, owner_team=team)

    @prepared(shape=("limit",))
    def first(*, team, limit):
        return Service.objects.filter(owner_team=team).order_by("pk")[:limit]

    assert first(team=team, limit=2) == services[:2]
    assert first(team=team, limit=1) == services[:1]
    assert len(first.statements) == 2


def test_a_value_a_lookup_rewrites_is_refused_under_the_check(settings):
    @prepared
    def named_like(*, text):
        return Service.objects.filter(name__icontains=text)

    with pytest.raises(PreparedQueryError, match="a lookup rewrites it"):
        named_like(text="ledger")


def test_a_build_that_cannot_be_prepared_is_logged_and_built_each_time(unchecked, caplog):
    ledger = ServiceFactory(name="Ledger")
    ServiceFactory(name="Indexer")

    @prepared
    def named_like(*, text):
        return Service.objects.filter(name__icontains=text)

    assert named_like(text="ledg") == [ledger]
    assert "could not be prepared" in caplog.text
    assert named_like(text="LEDGER") == [ledger]
    assert named_like(text="nothing") == []


def test_a_value_the_orm_converts_is_built_each_time_and_gives_the_right_rows(unchecked, caplog):
    team = TeamFactory()

    @prepared
    def team_of(*, pk):
        return Team.objects.filter(pk=pk)

    assert team_of(pk=str(team.pk)) == [team]  # a text where the key's number goes
    assert "could not be prepared" in caplog.text
    assert team_of(pk=str(team.pk + 1000)) == []


def test_a_build_that_reads_the_clock_is_caught_when_it_is_prepared():
    ServiceFactory()

    @prepared
    def recent(*, team_ids):
        return Service.objects.filter(
            Q(owner_team_id__in=team_ids) | Q(created_at__gte=timezone.now())
        )

    with pytest.raises(PreparedQueryError, match="made from a value"):
        recent(team_ids=[1])


def test_a_lookup_by_day_gets_the_statement_of_the_current_zone(unchecked):
    service = ServiceFactory()
    created = service.created_at

    @prepared
    def created_on(*, day):
        return Service.objects.filter(created_at__date=day)

    with timezone.override("UTC"):
        utc_day = timezone.localtime(created).date()
        assert created_on(day=utc_day) == [service]
    with timezone.override("Pacific/Kiritimati"):  # UTC+14: another day for most of it
        kiritimati_day = timezone.localtime(created).date()
        assert created_on(day=kiritimati_day) == [service]
    assert len(created_on.statements) == 2


def test_past_the_shapes_kept_a_call_is_built_as_usual(unchecked, three_teams):
    teams, services, services_of = three_teams
    for length in range(1, MAX_SHAPES + 1):
        services_of(team_ids=list(range(10_000, 10_000 + length)))
    assert len(services_of.statements) == MAX_SHAPES
    ids = [team.pk for team in teams] + list(range(20_000, 20_000 + MAX_SHAPES))
    assert services_of(team_ids=ids) == services
    assert len(services_of.statements) == MAX_SHAPES


def test_the_suites_check_compares_every_call_with_its_queryset_built_afresh():
    team = TeamFactory()
    ServiceFactory(owner_team=team, lifecycle=Lifecycle.DEPRECATED)
    switch = {"hide_deprecated": False}

    @prepared
    def services_of(*, team):
        services = Service.objects.filter(owner_team=team)
        return (
            services.exclude(lifecycle=Lifecycle.DEPRECATED)
            if switch["hide_deprecated"]
            else services
        )

    assert len(services_of(team=team)) == 1
    switch["hide_deprecated"] = True
    with pytest.raises(PreparedQueryError, match="builds another statement"):
        services_of(team=team)
