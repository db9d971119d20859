"""The SLO and maintenance-window forms: the issue's validation rules, with clear messages."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from services.forms import MaintenanceWindowForm, SLOForm
from services.models.slos import SLO

pytestmark = pytest.mark.django_db

EVENTS = 'sum(rate(http_requests_total{job="api",code!~"5.."}[{{.window}}]))'
TOTAL = 'sum(rate(http_requests_total{job="api"}[{{.window}}]))'


def slo_form(service, **changes):
    data = {
        "name": "Checkout availability",
        "slug": "",
        "sli_kind": "availability",
        "objective": "99.9",
        "window_kind": "rolling",
        "window_days": "30",
        "time_zone": "UTC",
        "budgeting_method": "occurrences",
        "source": "prometheus",
        "query_kind": "good_total",
        "events_query": EVENTS,
        "total_query": TOTAL,
        "labels": "{}",
    }
    data.update(changes)
    return SLOForm(data, instance=SLO(service=service))


def test_a_complete_slo_is_valid_and_gets_a_slug_from_its_name(service):
    form = slo_form(service)
    assert form.is_valid(), form.errors
    assert form.action_arguments()["slug"] == "checkout-availability"


@pytest.mark.parametrize("objective", ["0", "100", "-5", "150"])
def test_the_objective_lies_strictly_between_0_and_100(service, objective):
    form = slo_form(service, objective=objective)
    assert not form.is_valid()
    assert "The objective is a percentage above 0 and below 100." in form.errors["objective"]


@pytest.mark.parametrize("field", ["events_query", "total_query"])
def test_both_queries_are_required(service, field):
    form = slo_form(service, **{field: "  "})
    assert not form.is_valid()
    assert form.errors[field] == ["Required for an SLO synced from Prometheus."]


def test_the_two_queries_must_differ(service):
    form = slo_form(service, total_query=f"  {EVENTS} ")
    assert not form.is_valid()
    assert "The two queries must differ." in form.errors["total_query"]


@pytest.mark.parametrize("days", ["0", "367"])
def test_a_rolling_window_is_between_1_and_366_days(service, days):
    form = slo_form(service, window_days=days)
    assert not form.is_valid()
    assert "window_days" in form.errors


def test_slice_settings_posted_without_timeslices_are_dropped_as_the_hidden_fields_they_are(
    service,
):
    # Switching a timeslice SLO to occurrences hides the slice fields, which still post what
    # they held: the form clears them rather than refusing what the person cannot see.
    form = slo_form(service, slice_minutes="5", slice_target="95")
    assert form.is_valid(), form.errors
    assert form.action_arguments()["slice_minutes"] is None
    assert form.action_arguments()["slice_target"] is None


def test_the_model_still_refuses_slice_settings_without_timeslices(service):
    slo = SLO(
        service=service,
        name="X",
        slug="x",
        objective=99,
        events_query=EVENTS,
        total_query=TOTAL,
        slice_minutes=5,
    )
    with pytest.raises(ValidationError) as refused:
        slo.full_clean()
    assert refused.value.message_dict["slice_minutes"] == ["Only timeslice SLOs have slices."]


def test_fields_that_apply_only_to_some_slos_say_when_they_show(service):
    page = str(slo_form(service))

    assert page.count('data-shown-when="budgeting_method=timeslices"') == 2
    assert 'data-shown-when="window_kind=calendar_month"' in page
    assert 'data-shown-when="window_kind=rolling"' in page


def test_timeslices_need_a_slice_length_on_the_bucket_grid_and_a_target(service):
    form = slo_form(service, budgeting_method="timeslices", slice_minutes="7")
    assert not form.is_valid()
    assert "Must be a multiple of 5 minutes." in form.errors["slice_minutes"]
    assert "Required for timeslices." in form.errors["slice_target"]


def test_a_timeslice_slo_with_its_settings_is_valid(service):
    form = slo_form(service, budgeting_method="timeslices", slice_minutes="5", slice_target="95")
    assert form.is_valid(), form.errors


def test_an_unknown_time_zone_is_refused_by_name(service):
    form = slo_form(service, window_kind="calendar_month", time_zone="Mars/Olympus")
    assert not form.is_valid()
    assert "Unknown time zone “Mars/Olympus”." in form.errors["time_zone"]


def test_labels_must_be_json(service):
    form = slo_form(service, labels="journey=checkout")
    assert not form.is_valid()
    assert "labels" in form.errors


def test_a_maintenance_window_reads_local_input_as_the_portals_time_zone():
    form = MaintenanceWindowForm(
        {"start": "2026-12-01T02:00", "end": "2026-12-01T03:30", "reason": "Database upgrade"}
    )
    assert form.is_valid(), form.errors
    assert form.action_arguments()["start"] == datetime(2026, 12, 1, 2, tzinfo=UTC)


def test_a_maintenance_window_must_end_after_it_starts():
    form = MaintenanceWindowForm(
        {"start": "2026-12-01T02:00", "end": "2026-12-01T02:00", "reason": "Nothing"}
    )
    assert not form.is_valid()
    assert "A maintenance window ends after it starts." in form.errors["end"]


def test_a_maintenance_window_needs_a_reason():
    form = MaintenanceWindowForm({"start": "2026-12-01T02:00", "end": "2026-12-01T03:00"})
    assert not form.is_valid()
    assert "This field is required." in form.errors["reason"]


def test_a_pushed_slo_needs_no_queries_and_its_form_hides_them(service):
    form = slo_form(service, source="push", events_query="", total_query="")
    assert form.is_valid(), form.errors
    page = str(form)
    for name in ("query_kind", "events_query", "total_query"):
        assert 'data-shown-when="source=prometheus"' in page
        assert name in page
    assert page.count('data-shown-when="source=prometheus"') == 3


def test_an_slo_synced_from_prometheus_needs_both_queries(service):
    form = slo_form(service, events_query="", total_query="  ")
    assert not form.is_valid()
    required = ["Required for an SLO synced from Prometheus."]
    assert form.errors["events_query"] == required
    assert form.errors["total_query"] == required


def test_exports_leave_out_a_pushed_slo_without_queries(service):
    from services.openslo.exporter import slos_for_export

    pushed = SLO.objects.create(
        service=service, name="Pushed", slug="pushed", objective=99, source="push"
    )
    pushed.full_clean()
    synced = SLO.objects.create(
        service=service,
        name="Synced",
        slug="synced",
        objective=99,
        events_query=EVENTS,
        total_query=TOTAL,
    )
    assert list(slos_for_export()) == [synced]
