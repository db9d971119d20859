"""The SLO and budget policy API: CRUD, filters, the status snapshot, pushed buckets,
validation, permissions and query counts."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from services.models.slos import SLO, BudgetPolicy, DirtySLO, SLIBucket
from tests.factories import ServiceFactory
from tests.services.slo_data import BURN_RATE_KEYS, make_slo, make_status

pytestmark = pytest.mark.django_db

SLOS = "/api/slos/"
POLICIES = "/api/budget-policies/"
NOW = datetime(2026, 11, 20, 12, 2, tzinfo=UTC)

EDITORS = ["owner", "teammate", "sre_lead"]
NON_EDITORS = ["outsider", "viewer"]
SIGNED_IN = EDITORS + NON_EDITORS


@pytest.fixture
def api_as(request, api_client_for):
    def authenticate(name):
        return api_client_for(request.getfixturevalue(name))

    return authenticate


@pytest.fixture
def slo(service):
    return make_slo(service, name="Checkout availability", slug="checkout")


@pytest.fixture
def pushed(service):
    """An SLO fed by pushes."""
    return make_slo(service, 2, name="Checkout pushes", slug="checkout-pushes", source="push")


def slo_url(slo, suffix=""):
    return f"{SLOS}{slo.pk}/{suffix}"


def slo_payload(**changes):
    payload = {
        "service": "payments-api",
        "name": "Checkout latency",
        "slug": "checkout-latency",
        "sli_kind": "latency",
        "objective": "99.5",
        "window_kind": "rolling",
        "window_days": 28,
        "events_query": 'sum(rate(http_request_duration_seconds_bucket{le="0.3"}[{{.window}}]))',
        "total_query": "sum(rate(http_request_duration_seconds_count[{{.window}}]))",
    }
    payload.update(changes)
    return payload


# --- Reading ----------------------------------------------------------------------------


@pytest.mark.parametrize("user", SIGNED_IN)
def test_everyone_signed_in_lists_slos_with_their_status_summary(api_as, slo, user):
    make_status(slo)
    response = api_as(user).get(SLOS)
    assert response.status_code == 200
    [listed] = response.json()["results"]
    assert listed["service"] == "payments-api"
    assert listed["team"] == "payments"
    assert listed["objective"] == "99.9000"
    assert listed["status"]["budget_remaining"] == pytest.approx(0.42)
    assert listed["status"]["policy_tier"] == "caution"


def test_an_slo_never_computed_lists_with_no_status(api_as, slo):
    [listed] = api_as("viewer").get(SLOS).json()["results"]
    assert listed["status"] is None


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"policy_tier": "frozen"}, ["Exhausted"]),
        ({"alert": "page"}, ["Exhausted"]),
        ({"team": "search"}, ["Elsewhere"]),
        ({"service": "payments-api"}, ["Comfortable", "Exhausted"]),
        ({"stale": "true"}, ["Elsewhere"]),
        ({"source": "push"}, ["Elsewhere"]),
        ({"ordering": "budget"}, ["Exhausted", "Elsewhere", "Comfortable"]),
        ({"ordering": "-attainment"}, ["Comfortable", "Elsewhere", "Exhausted"]),
    ],
)
def test_the_slo_list_filters_and_sorts_like_the_scorecard(
    api_as, service, search_team, params, expected
):
    make_status(make_slo(service, 1, name="Comfortable"), remaining=0.9, attainment=0.9999)
    make_status(
        make_slo(service, 2, name="Exhausted"),
        remaining=-0.1,
        tier="frozen",
        alert="page",
        attainment=0.99,
    )
    elsewhere = make_slo(ServiceFactory(owner_team=search_team), 3, name="Elsewhere")
    elsewhere.source = "push"
    elsewhere.save()
    make_status(elsewhere, remaining=0.5, stale=True, attainment=0.995)
    response = api_as("viewer").get(SLOS, params)
    assert [slo["name"] for slo in response.json()["results"]] == expected


def test_an_unknown_filter_value_is_a_400_not_a_500(api_as, slo):
    assert api_as("viewer").get(SLOS, {"alert": "loud"}).status_code == 400
    assert api_as("viewer").get(SLOS, {"source": "carrier-pigeon"}).status_code == 400


@pytest.mark.parametrize("count", [3, 30])
def test_the_slo_list_runs_a_fixed_number_of_queries(
    api_as, payments, django_assert_max_num_queries, count
):
    services = [ServiceFactory(owner_team=payments) for _ in range(3)]
    for number in range(count):
        make_status(make_slo(services[number % 3], number))
    client = api_as("viewer")
    with django_assert_max_num_queries(4):
        response = client.get(SLOS)
    assert response.json()["count"] == count


# --- The status snapshot ----------------------------------------------------------------


def test_the_status_endpoint_answers_with_the_snapshots_figures(api_as, slo):
    make_status(slo, time_until_exhaustion=timedelta(days=2))
    response = api_as("viewer").get(slo_url(slo, "status/"))
    assert response.status_code == 200
    body = response.json()
    assert body["objective"] == pytest.approx(0.999)
    assert body["window"]["kind"] == "rolling"
    assert body["window"]["days"] == 30
    assert body["window"]["end"] == "2026-11-20T12:00:00Z"
    assert body["attainment"] == pytest.approx(0.99942)
    assert body["budget_remaining"] == pytest.approx(0.42)
    assert set(body["burn_rates"]) == set(BURN_RATE_KEYS)
    assert body["burn_rates"]["1h"] == pytest.approx(2.5)
    assert body["alert"] == "none"
    assert body["policy_tier"] == "caution"
    assert body["coverage"] == pytest.approx(0.97)
    assert body["stale"] is False
    assert body["time_until_exhaustion_seconds"] == 2 * 86400
    assert body["computed_at"] == "2026-11-20T12:00:00Z"
    assert body["compute_error"] == ""


def test_the_status_endpoint_says_why_an_slo_could_not_be_computed(api_as, slo):
    make_status(slo, stale=True, compute_error="ZoneInfoNotFoundError: 'Mars/Olympus'")
    body = api_as("viewer").get(slo_url(slo, "status/")).json()
    assert body["compute_error"] == "could not compute: ZoneInfoNotFoundError: 'Mars/Olympus'"
    assert body["stale"] is True


def test_an_slo_never_computed_answers_with_nulls_and_stale(api_as, slo):
    response = api_as("viewer").get(slo_url(slo, "status/"))
    assert response.status_code == 200
    body = response.json()
    assert body["stale"] is True
    assert body["attainment"] is None
    assert body["budget_remaining"] is None
    assert body["burn_rates"] == dict.fromkeys(BURN_RATE_KEYS)
    assert body["policy_tier"] == "unknown"
    assert body["computed_at"] is None


def test_the_status_of_an_unknown_slo_is_a_404(api_as, viewer):
    assert api_as("viewer").get(f"{SLOS}999999/status/").status_code == 404


# --- Writing SLOs -----------------------------------------------------------------------


@pytest.mark.parametrize("user", EDITORS)
def test_team_engineers_and_sre_leads_create_an_slo(api_as, service, user):
    response = api_as(user).post(SLOS, slo_payload(), format="json")
    assert response.status_code == 201, response.json()
    slo = SLO.objects.get(slug="checkout-latency")
    assert slo.service == service
    assert slo.window_days == 28
    assert response.json()["status"] is None


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_create_an_slo_for_the_teams_service(api_as, service, user):
    response = api_as(user).post(SLOS, slo_payload(), format="json")
    assert response.status_code == 403
    assert not SLO.objects.exists()


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"objective": "100"}, "objective", "above 0 and below 100"),
        ({"objective": "0"}, "objective", "above 0 and below 100"),
        ({"total_query": slo_payload()["events_query"]}, "total_query", "must differ"),
        ({"events_query": ""}, "events_query", "Required for an SLO synced from Prometheus."),
        ({"window_days": 0}, "window_days", "greater than or equal to 1"),
        ({"slice_minutes": 5}, "slice_minutes", "Only timeslice SLOs"),
        (
            {"budgeting_method": "timeslices", "slice_target": "95"},
            "slice_minutes",
            "Required for timeslices",
        ),
        (
            {"budgeting_method": "timeslices", "slice_minutes": 7, "slice_target": "95"},
            "slice_minutes",
            "multiple of 5",
        ),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone"),
    ],
)
def test_an_invalid_slo_is_refused_with_the_field_named(api_as, service, changes, field, message):
    response = api_as("owner").post(SLOS, slo_payload(**changes), format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not SLO.objects.exists()


def test_a_second_slo_with_the_same_slug_on_the_service_is_a_400(api_as, slo):
    response = api_as("owner").post(SLOS, slo_payload(slug="checkout"), format="json")
    assert response.status_code == 400
    assert SLO.objects.count() == 1


@pytest.mark.parametrize("user", EDITORS)
def test_team_engineers_and_sre_leads_change_and_delete_an_slo(api_as, slo, user):
    client = api_as(user)
    response = client.patch(slo_url(slo), {"objective": "99.95"}, format="json")
    assert response.status_code == 200
    slo.refresh_from_db()
    assert str(slo.objective) == "99.9500"
    assert client.delete(slo_url(slo)).status_code == 204
    assert not SLO.objects.exists()


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_change_or_delete_an_slo(api_as, slo, user):
    client = api_as(user)
    assert client.patch(slo_url(slo), {"objective": "99"}, format="json").status_code == 403
    assert client.delete(slo_url(slo)).status_code == 403
    slo.refresh_from_db()
    assert str(slo.objective) == "99.9000"


def test_an_engineer_cannot_move_an_slo_to_another_teams_service(api_as, slo, search_team):
    ServiceFactory(owner_team=search_team, slug="search-api")
    response = api_as("owner").patch(slo_url(slo), {"service": "search-api"}, format="json")
    assert response.status_code == 403
    slo.refresh_from_db()
    assert slo.service.slug == "payments-api"


def test_api_changes_are_recorded_in_the_slo_history_with_the_tokens_user(api_as, slo):
    api_as("teammate").patch(slo_url(slo), {"name": "Checkout"}, format="json")
    assert slo.history.first().history_user.username == "tom"


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_requests_are_refused(client, slo, method):
    for url in [SLOS, slo_url(slo), slo_url(slo, "status/"), slo_url(slo, "buckets/"), POLICIES]:
        assert getattr(client, method)(url).status_code in {401, 403}


# --- Pushed buckets ---------------------------------------------------------------------


def buckets(*items):
    return [{"start": start, "good": good, "total": total} for start, good, total in items]


@time_machine.travel(NOW, tick=False)
def test_an_editor_pushes_buckets_and_a_re_push_replaces_them(
    api_as, pushed, django_capture_on_commit_callbacks
):
    client = api_as("owner")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            slo_url(pushed, "buckets/"),
            buckets(("2026-11-20T11:50:00Z", 990, 1000), ("2026-11-20T11:55:00Z", 1000, 1000)),
            format="json",
        )
    assert response.status_code == 202, response.json()
    assert len(callbacks) == 1  # the ring for the recompute, once the push commits
    assert DirtySLO.objects.filter(slo=pushed).exists()
    again = client.post(
        slo_url(pushed, "buckets/"), buckets(("2026-11-20T11:50:00Z", 995, 1000)), format="json"
    )
    assert again.status_code == 202
    stored = dict(SLIBucket.objects.filter(slo=pushed).values_list("start", "good"))
    assert stored == {
        datetime(2026, 11, 20, 11, 50, tzinfo=UTC): 995,
        datetime(2026, 11, 20, 11, 55, tzinfo=UTC): 1000,
    }


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "body, named",
    [
        (buckets(("2026-11-20T11:50:00Z", 10, 10), ("yesterday", 1, 1)), "Bucket 1: start"),
        (buckets(("2026-11-20T11:50:00Z", -1, 10)), "Bucket 0: good"),
        (buckets(("2026-11-20T11:50:00Z", 10, 10), ("2026-11-20T11:51:00Z", 1, 1)), "Bucket 1"),
        (buckets(("2026-11-20T11:50:00Z", 11, 10)), "Bucket 0"),
        (buckets(("2026-11-20T13:00:00Z", 1, 1)), "future"),
        ([{"start": "2026-11-20T11:50:00Z"}], "Bucket 0: good"),
        (buckets(("2026-11-20T11:50:00Z", 1, 10**12 + 1)), "Bucket 0: total"),
        (buckets(("1970-01-01T00:00:00Z", 1, 1)), "400 days back"),
        ({"start": "2026-11-20T11:50:00Z", "good": 1, "total": 1}, "JSON list"),
    ],
)
def test_an_invalid_push_names_the_bad_item_and_stores_nothing(api_as, pushed, body, named):
    response = api_as("owner").post(slo_url(pushed, "buckets/"), body, format="json")
    assert response.status_code == 400
    assert named in " ".join(response.json()["buckets"])
    assert not SLIBucket.objects.exists()


@pytest.mark.parametrize("user", NON_EDITORS)
def test_others_cannot_push_buckets(api_as, pushed, user):
    response = api_as(user).post(
        slo_url(pushed, "buckets/"), buckets(("2026-11-20T11:50:00Z", 1, 1)), format="json"
    )
    assert response.status_code == 403
    assert not SLIBucket.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_push_into_an_slo_synced_from_prometheus_is_a_400_naming_its_source(api_as, slo):
    response = api_as("owner").post(
        slo_url(slo, "buckets/"), buckets(("2026-11-20T11:50:00Z", 1, 1)), format="json"
    )
    assert response.status_code == 400
    assert "synced from Prometheus" in response.json()["source"][0]
    assert not SLIBucket.objects.exists()


# --- Budget policies --------------------------------------------------------------------


def policy_payload(**changes):
    payload = {
        "name": "Strict",
        "slug": "strict",
        "description": "For tier 1 services.",
        "is_default": False,
        "tiers": [
            {"name": "healthy", "min_remaining": "0.7", "change_rule": "allow"},
            {"name": "caution", "min_remaining": "0.3", "change_rule": "review"},
            {"name": "frozen", "min_remaining": None, "change_rule": "freeze"},
        ],
    }
    payload.update(changes)
    return payload


@pytest.mark.parametrize("user", SIGNED_IN)
def test_everyone_reads_budget_policies_with_their_tiers(api_as, user):
    response = api_as(user).get(POLICIES)
    assert response.status_code == 200
    [default] = [policy for policy in response.json()["results"] if policy["is_default"]]
    assert [tier["name"] for tier in default["tiers"]] == ["healthy", "caution", "frozen"]


def test_an_sre_lead_creates_changes_and_deletes_a_policy(api_as):
    client = api_as("sre_lead")
    response = client.post(POLICIES, policy_payload(), format="json")
    assert response.status_code == 201, response.json()
    policy = BudgetPolicy.objects.get(slug="strict")
    assert [tier.name for tier in policy.tiers.all()] == ["healthy", "caution", "frozen"]
    tiers = [
        {"name": "open", "min_remaining": "0.2", "change_rule": "allow"},
        {"name": "closed", "min_remaining": None, "change_rule": "freeze"},
    ]
    response = client.patch(f"{POLICIES}{policy.pk}/", {"tiers": tiers}, format="json")
    assert response.status_code == 200
    assert [tier.name for tier in policy.tiers.all()] == ["open", "closed"]
    assert client.delete(f"{POLICIES}{policy.pk}/").status_code == 204
    assert not BudgetPolicy.objects.filter(slug="strict").exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"tiers": policy_payload()["tiers"][:2]}, "Exactly one tier"),
        ({"tiers": policy_payload()["tiers"] * 2}, "Exactly one tier"),
        (
            {
                "tiers": [
                    {**tier, "min_remaining": "0.5"} for tier in policy_payload()["tiers"][:2]
                ]
                + policy_payload()["tiers"][2:]
            },
            "floor of its own",
        ),
    ],
)
def test_an_invalid_policy_is_refused_and_nothing_is_written(api_as, changes, message):
    response = api_as("sre_lead").post(POLICIES, policy_payload(**changes), format="json")
    assert response.status_code == 400
    assert message in str(response.json())
    assert not BudgetPolicy.objects.filter(slug="strict").exists()


def test_a_policy_followed_by_slos_is_not_deleted(api_as, service):
    policy = BudgetPolicy.objects.get(is_default=True)
    make_slo(service, budget_policy=policy)
    response = api_as("sre_lead").delete(f"{POLICIES}{policy.pk}/")
    assert response.status_code == 400
    assert BudgetPolicy.objects.filter(pk=policy.pk).exists()


@pytest.mark.parametrize("user", ["owner", "teammate", "outsider", "viewer"])
def test_only_sre_leads_write_budget_policies(api_as, user):
    client = api_as(user)
    assert client.post(POLICIES, policy_payload(), format="json").status_code == 403
    policy = BudgetPolicy.objects.get(is_default=True)
    assert client.delete(f"{POLICIES}{policy.pk}/").status_code == 403


def test_an_slo_names_its_policy_by_slug(api_as, service):
    response = api_as("owner").post(SLOS, slo_payload(budget_policy="nonexistent"), format="json")
    assert response.status_code == 400
    assert "budget_policy" in response.json()


def test_making_another_policy_the_default_takes_it_from_the_previous_one_with_history(api_as, slo):
    previous = BudgetPolicy.objects.get(is_default=True)
    response = api_as("sre_lead").post(POLICIES, policy_payload(is_default=True), format="json")
    assert response.status_code == 201, response.json()
    assert BudgetPolicy.objects.get(is_default=True).slug == "strict"
    previous.refresh_from_db()
    assert not previous.is_default
    assert previous.history.first().is_default is False
    # The SLOs following the default now follow another policy: their tiers are recomputed.
    assert DirtySLO.objects.filter(slo=slo).exists()


def test_changing_a_policys_tiers_recomputes_every_snapshot_once_committed(
    api_as, slo, django_capture_on_commit_callbacks
):
    policy = BudgetPolicy.objects.get(is_default=True)
    tiers = [
        {"name": "open", "min_remaining": "0.2", "change_rule": "allow"},
        {"name": "closed", "min_remaining": None, "change_rule": "freeze"},
    ]
    client = api_as("sre_lead")
    with django_capture_on_commit_callbacks() as renamed:
        client.patch(f"{POLICIES}{policy.pk}/", {"description": "Renamed."}, format="json")
    assert not DirtySLO.objects.exists()
    with django_capture_on_commit_callbacks() as retiered:
        client.patch(f"{POLICIES}{policy.pk}/", {"tiers": tiers}, format="json")
    assert (len(renamed), len(retiered)) == (0, 1)
    assert DirtySLO.objects.filter(slo=slo).exists()


@pytest.mark.parametrize("count", [3, 30])
def test_the_budget_policy_list_runs_a_fixed_number_of_queries(
    api_as, django_assert_max_num_queries, count
):
    for number in range(count):
        BudgetPolicy.objects.create(name=f"Policy {number:02d}", slug=f"policy-{number:02d}")
    client = api_as("viewer")
    with django_assert_max_num_queries(4):
        response = client.get(POLICIES)
    assert response.json()["count"] == count + 1
