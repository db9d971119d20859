"""The catalog's admin pages: open to SRE leads only, and cheap to list."""

import pytest

from portal.api.tokens import token_create
from services.choices import Lifecycle, MembershipRole, Tier
from services.models.catalog import Membership
from tests.factories import MembershipFactory, ServiceFactory, TagFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(service, owner):
    """One record of each kind the admin manages, keyed by its admin URL segment."""
    tag = TagFactory(name="pci")
    service.tags.set([tag])
    return {
        "services/team": service.owner_team,
        "services/membership": Membership.objects.get(user=owner),
        "services/tag": tag,
        "services/service": service,
        "portal/apitoken": token_create(user=owner)[0],
    }


ADMIN_PAGES = [
    "services/team",
    "services/membership",
    "services/tag",
    "services/service",
    "portal/apitoken",
]


def change_url(model, record):
    return f"/admin/{model}/{record.pk}/change/"


@pytest.mark.parametrize("model", ADMIN_PAGES)
def test_an_sre_lead_opens_the_list_add_and_change_pages(model, records, sre_lead, client_for):
    client = client_for(sre_lead)

    assert client.get(f"/admin/{model}/").status_code == 200
    assert client.get(f"/admin/{model}/add/").status_code == 200
    assert client.get(change_url(model, records[model])).status_code == 200


@pytest.mark.parametrize("who", ["owner", "viewer"])
@pytest.mark.parametrize("page", ["", "services/service/", "services/team/", "change"])
def test_engineers_and_viewers_are_sent_to_the_admin_login(who, page, records, request, client_for):
    url = change_url("services/service", records["services/service"]) if page == "change" else page
    url = url if url.startswith("/") else f"/admin/{url}"

    response = client_for(request.getfixturevalue(who)).get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_service_list_shows_team_tier_lifecycle_and_personal_data(
    records, sre_lead, client_for
):
    ServiceFactory(
        name="Vault",
        owner_team=TeamFactory(name="Identity"),
        tier=Tier.TIER_1,
        lifecycle=Lifecycle.EXPERIMENTAL,
        handles_personal_data=True,
        data_retention_days=90,
    )

    page = client_for(sre_lead).get("/admin/services/service/").content.decode()

    for text in ("Payments API", "Vault", "Identity", "Tier 1 (critical)", "Experimental", "90"):
        assert text in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("q=vault", "Vault", "Payments API"),
        ("tier__exact=1", "Vault", "Payments API"),
        ("handles_personal_data__exact=1", "Vault", "Payments API"),
        ("tags__id__exact=tag", "Payments API", "Vault"),
    ],
)
def test_the_service_list_searches_and_filters(query, shown, hidden, records, sre_lead, client_for):
    ServiceFactory(
        name="Vault", tier=Tier.TIER_1, handles_personal_data=True, data_retention_days=90
    )
    query = query.replace("=tag", f"={records['services/tag'].pk}")

    page = client_for(sre_lead).get(f"/admin/services/service/?{query}").content.decode()

    assert f">{shown}</a>" in page
    assert f">{hidden}</a>" not in page


def test_the_team_list_counts_services_and_members(records, teammate, sre_lead, client_for):
    response = client_for(sre_lead).get("/admin/services/team/")

    payments = next(team for team in response.context["cl"].result_list if team.slug == "payments")
    assert (payments.service_count, payments.member_count) == (1, 2)


def test_the_change_page_does_not_offer_a_service_as_its_own_dependency(
    records, sre_lead, client_for
):
    service = records["services/service"]
    other = ServiceFactory(name="Ledger")

    form = client_for(sre_lead).get(change_url("services/service", service)).context["adminform"]

    choices = form.form.fields["depends_on"].queryset
    assert other in choices
    assert service not in choices


def test_the_team_page_edits_memberships_inline(records, sre_lead, client_for):
    team = records["services/team"]

    page = client_for(sre_lead).get(change_url("services/team", team)).content.decode()

    assert "memberships-TOTAL_FORMS" in page
    assert "olivia" in page


def test_an_sre_lead_sees_the_history_of_a_service(records, sre_lead, client_for):
    service = records["services/service"]
    client = client_for(sre_lead)
    form = {
        "name": "Payments API",
        "slug": service.slug,
        "owner_team": service.owner_team_id,
        "tier": Tier.TIER_1,
        "lifecycle": Lifecycle.PRODUCTION,
        "tags": [records["services/tag"].pk],
        "data_retention_days": "",
    }

    saved = client.post(change_url("services/service", service), form)
    history = client.get(f"/admin/services/service/{service.pk}/history/")

    assert saved.status_code == 302, saved.context and saved.context["adminform"].errors
    service.refresh_from_db()
    assert service.tier == Tier.TIER_1
    assert history.status_code == 200
    assert service.history.count() == 2
    assert service.history.first().history_user == sre_lead


def build_catalog(size):
    """`size` teams, each with a member and a service carrying a tag of its own."""
    for i in range(size):
        team = TeamFactory()
        ServiceFactory(owner_team=team, tags=[TagFactory(name=f"area{i}")])
        MembershipFactory(team=team, role=MembershipRole.ENGINEER)


@pytest.mark.parametrize("size", [3, 30])
@pytest.mark.parametrize(
    ("model", "bound"),
    [
        # session, user, SRE-lead group, counts and rows, then each sidebar filter's choices
        ("services/service", 8),
        ("services/team", 6),
        ("services/membership", 7),
        ("services/tag", 6),
    ],
)
def test_changelists_run_a_fixed_number_of_queries(
    size, model, bound, sre_lead, client_for, django_assert_max_num_queries
):
    build_catalog(size)
    client = client_for(sre_lead)

    with django_assert_max_num_queries(bound):
        response = client.get(f"/admin/{model}/")

    assert response.status_code == 200
    assert response.context["cl"].result_count == size
