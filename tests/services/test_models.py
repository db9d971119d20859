from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.roles import can_edit
from services.actions.catalog import service_create, service_update, tags_for_names, team_delete
from services.choices import BudgetingMethod, ChangeRule, Lifecycle
from services.models.catalog import Membership, Tag
from services.models.slos import SLO, BudgetPolicy, SLIBucket
from tests.factories import MembershipFactory, ServiceFactory, TeamFactory

pytestmark = pytest.mark.django_db


def slo_for(service, **fields):
    defaults = {
        "service": service,
        "name": "Availability",
        "slug": "availability",
        "objective": Decimal("99.9"),
        "events_query": 'sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))',
        "total_query": "sum(rate(http_requests_total[{{.window}}]))",
    }
    return SLO(**(defaults | fields))


def test_a_service_handling_personal_data_needs_its_retention_days(payments):
    service = ServiceFactory.build(owner_team=payments, handles_personal_data=True)

    with pytest.raises(ValidationError) as error:
        service.full_clean()

    assert error.value.message_dict == {
        "data_retention_days": ["Required when the service handles personal data."]
    }


def test_the_database_refuses_personal_data_without_retention_too(payments):
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceFactory(owner_team=payments, handles_personal_data=True)


@pytest.mark.parametrize("slug", ["add", "import"])
def test_slugs_the_portal_uses_in_its_paths_are_refused(payments, slug):
    service = ServiceFactory.build(owner_team=payments, slug=slug)
    team = TeamFactory.build(slug=slug)

    with pytest.raises(ValidationError) as service_error:
        service.full_clean()
    with pytest.raises(ValidationError) as team_error:
        team.full_clean()

    assert "slug" in service_error.value.message_dict
    assert "slug" in team_error.value.message_dict


def test_a_user_is_a_member_of_a_team_once(payments, owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=owner, team=payments)


def test_tags_differing_only_in_case_are_one_tag(db):
    tags = tags_for_names(["Python", "python", " PYTHON ", ""])

    assert len(tags) == 1
    assert Tag.objects.count() == 1


def test_a_service_cannot_depend_on_itself(service):
    with pytest.raises(ValidationError) as error:
        service_update(service=service, depends_on=[service])

    assert error.value.message_dict == {"depends_on": ["A service cannot depend on itself."]}
    assert not service.depends_on.exists()


def test_dependencies_are_kept_in_both_directions(payments):
    database = ServiceFactory(owner_team=payments, slug="database")
    api = service_create(
        name="API", slug="api", owner_team=payments, lifecycle=Lifecycle.EXPERIMENTAL,
        depends_on=[database], tags=["edge"],
    )  # fmt: skip

    assert list(api.depends_on.all()) == [database]
    assert list(database.dependents.all()) == [api]
    assert [tag.name for tag in api.tags.all()] == ["edge"]


def test_a_team_that_owns_services_cannot_be_deleted(service, payments):
    with pytest.raises(ValidationError):
        team_delete(team=payments)

    assert payments.__class__.objects.filter(pk=payments.pk).exists()


def test_an_engineer_membership_is_what_lets_a_user_edit_a_teams_records(payments):
    viewer = MembershipFactory(team=payments, role="viewer").user
    engineer = MembershipFactory(team=payments, role="engineer").user
    service = ServiceFactory(owner_team=payments)

    assert can_edit(engineer, service)
    assert not can_edit(viewer, service)


def test_the_default_budget_policy_has_three_tiers_from_healthy_to_frozen(db):
    policy = BudgetPolicy.objects.get(is_default=True)

    tiers = [(tier.name, tier.min_remaining, tier.change_rule) for tier in policy.tiers.all()]

    assert tiers == [
        ("healthy", Decimal("0.5000"), ChangeRule.ALLOW),
        ("caution", Decimal("0.1000"), ChangeRule.REVIEW),
        ("frozen", None, ChangeRule.FREEZE),
    ]


def test_only_one_budget_policy_is_the_default(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetPolicy.objects.create(name="Strict", slug="strict", is_default=True)


def test_an_slo_with_valid_settings_passes_validation(service):
    slo_for(service).full_clean()


@pytest.mark.parametrize("objective", [Decimal("0"), Decimal("100"), Decimal("100.5")])
def test_an_objective_must_lie_strictly_between_0_and_100(service, objective):
    with pytest.raises(ValidationError) as error:
        slo_for(service, objective=objective).full_clean()

    assert "objective" in error.value.message_dict


def test_the_two_queries_of_an_slo_must_differ(service):
    query = "sum(rate(http_requests_total[{{.window}}]))"

    with pytest.raises(ValidationError) as error:
        slo_for(service, events_query=query, total_query=query).full_clean()

    assert error.value.message_dict["total_query"] == ["The two queries must differ."]


def test_slice_settings_belong_to_timeslice_slos_only(service):
    with pytest.raises(ValidationError) as error:
        slo_for(service, slice_minutes=5, slice_target=Decimal("95")).full_clean()

    assert set(error.value.message_dict) == {"slice_minutes", "slice_target"}


def test_a_timeslice_slo_needs_slices_in_whole_buckets(service):
    slo = slo_for(
        service, budgeting_method=BudgetingMethod.TIMESLICES, slice_minutes=7, slice_target=None
    )

    with pytest.raises(ValidationError) as error:
        slo.full_clean()

    assert error.value.message_dict == {
        "slice_minutes": ["Must be a multiple of 5 minutes."],
        "slice_target": ["Required for timeslices."],
    }


def test_an_unknown_time_zone_is_refused(service):
    with pytest.raises(ValidationError) as error:
        slo_for(service, time_zone="Mars/Olympus_Mons").full_clean()

    assert "time_zone" in error.value.message_dict


def test_a_bucket_is_stored_once_per_slo_and_start(service):
    slo = slo_for(service)
    slo.save()
    start = timezone.now().replace(second=0, microsecond=0)
    SLIBucket.objects.create(slo=slo, start=start, good=9, total=10)

    with pytest.raises(IntegrityError), transaction.atomic():
        SLIBucket.objects.create(slo=slo, start=start, good=10, total=10)


def test_a_bucket_never_has_more_good_events_than_events(service):
    slo = slo_for(service)
    slo.save()

    with pytest.raises(IntegrityError), transaction.atomic():
        SLIBucket.objects.create(slo=slo, start=timezone.now(), good=11, total=10)


def test_both_queries_say_where_the_range_goes(service):
    slo = slo_for(service, total_query="sum(rate(http_requests_total[5m]))")

    with pytest.raises(ValidationError) as error:
        slo.full_clean()

    assert error.value.message_dict == {"total_query": ["Write {{.window}} where the range goes."]}
