"""Alert intake: the webhook payload's validation, the intake rules, re-deliveries, the token,
and bad input that writes nothing."""

import copy
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from incidents.actions.incidents import incident_change_severity, incident_change_status
from incidents.alertmanager.payload import PayloadError, parse_webhook
from incidents.choices import AlertStatus, IncidentSource, IncidentStatus, Severity, TimelineKind
from incidents.models.incidents import Incident, IncidentAlert, TimelineEntry
from tests.factories import ServiceFactory

GROUP_KEY = '{}/{severity=~"^(?:critical|warning)$"}:{alertname="CheckoutErrors"}'
NOT_YET = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of a firing alert


def alert_body(
    fingerprint="a1b2c3d4e5f60718",
    status="firing",
    starts_at="2026-11-24T09:00:00.123456789Z",
    ends_at=NOT_YET,
    **labels,
):
    """One alert as Alertmanager 0.25 sends it; labels default to a warning CheckoutErrors."""
    labels = {"alertname": "CheckoutErrors", "severity": "warning", **labels}
    return {
        "status": status,
        "labels": labels,
        "annotations": {"description": f"{labels['alertname']} ({fingerprint})"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus.example.test/graph?g0.expr=errors",
        "fingerprint": fingerprint,
    }


def webhook_body(*alerts, group_key=GROUP_KEY, summary="Checkout is failing"):
    """A version 4 webhook body around these alerts (one firing alert by default)."""
    alerts = list(alerts) or [alert_body()]
    status = "firing" if any(alert["status"] == "firing" for alert in alerts) else "resolved"
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "reliability-portal",
        "groupLabels": {"alertname": alerts[0]["labels"]["alertname"]},
        "commonLabels": {"alertname": alerts[0]["labels"]["alertname"]},
        "commonAnnotations": {"summary": summary} if summary else {},
        "externalURL": "http://alertmanager.example.test:9093",
        "alerts": alerts,
    }


def resolved(alert, ends_at="2026-11-24T09:30:00Z"):
    return {**alert, "status": "resolved", "endsAt": ends_at}


# The payload


def test_a_version_4_payload_parses_into_its_group_and_alerts():
    webhook = parse_webhook(webhook_body(alert_body(service="payments-api")))

    assert webhook.version == "4"
    assert webhook.group_key == GROUP_KEY
    assert webhook.status == "firing"
    assert webhook.receiver == "reliability-portal"
    assert webhook.common_annotations == {"summary": "Checkout is failing"}
    assert webhook.external_url == "http://alertmanager.example.test:9093"
    [alert] = webhook.alerts
    assert alert.fingerprint == "a1b2c3d4e5f60718"
    assert alert.status == "firing"
    assert alert.name == "CheckoutErrors"
    assert alert.labels["service"] == "payments-api"
    assert alert.generator_url == "http://prometheus.example.test/graph?g0.expr=errors"


def test_alert_times_keep_their_offset_down_to_the_microsecond():
    [alert] = parse_webhook(
        webhook_body(alert_body(starts_at="2026-11-24T10:00:00.5+01:00"))
    ).alerts

    assert alert.starts_at == datetime(2026, 11, 24, 9, 0, 0, 500000, tzinfo=UTC)


def test_nanosecond_times_are_cut_to_microseconds():
    [alert] = parse_webhook(webhook_body()).alerts

    assert alert.starts_at == datetime(2026, 11, 24, 9, 0, 0, 123456, tzinfo=UTC)


def test_a_firing_alerts_zero_end_time_means_no_end_yet():
    [alert] = parse_webhook(webhook_body()).alerts

    assert alert.ends_at is None


def test_a_resolved_alert_carries_its_end_time():
    [alert] = parse_webhook(webhook_body(resolved(alert_body()))).alerts

    assert alert.status == "resolved"
    assert alert.ends_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def test_absent_or_null_label_sets_count_as_empty():
    body = webhook_body()
    del body["groupLabels"]
    body["commonAnnotations"] = None
    del body["alerts"][0]["annotations"]

    webhook = parse_webhook(body)

    assert webhook.group_labels == {}
    assert webhook.common_annotations == {}
    assert webhook.alerts[0].annotations == {}


DELETE = object()


def with_change(path, value):
    """A valid body with one field replaced (value ...) or removed (value DELETE)."""
    body = copy.deepcopy(webhook_body())
    *parents, last = path
    target = body
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "field", "problem"),
    [
        (("version",), "3", "version", "must be \"4\", not '3'."),
        (("version",), 4, "version", "must be a string."),
        (("version",), DELETE, "version", "is required."),
        (("groupKey",), "", "groupKey", "must not be empty."),
        (("groupKey",), DELETE, "groupKey", "is required."),
        (("status",), "pending", "status", 'must be "firing" or "resolved", not \'pending\'.'),
        (("truncatedAlerts",), -1, "truncatedAlerts", "must be a whole number, 0 or more."),
        (("truncatedAlerts",), "2", "truncatedAlerts", "must be a whole number, 0 or more."),
        (("commonLabels",), ["x"], "commonLabels", "must be an object of strings."),
        (("commonAnnotations",), {"summary": 3}, "commonAnnotations.summary", "must be a string."),
        (("alerts",), [], "alerts", "must be a non-empty list of alerts."),
        (("alerts",), {"a": 1}, "alerts", "must be a non-empty list of alerts."),
        (("alerts",), DELETE, "alerts", "is required."),
        (("alerts", 0), "an alert", "alerts[0]", "must be an object."),
        (("alerts", 0, "status"), "silenced", "alerts[0].status", None),
        (("alerts", 0, "fingerprint"), DELETE, "alerts[0].fingerprint", "is required."),
        (("alerts", 0, "fingerprint"), "  ", "alerts[0].fingerprint", "must not be empty."),
        (("alerts", 0, "labels"), {"severity": None}, "alerts[0].labels.severity", None),
        (("alerts", 0, "startsAt"), DELETE, "alerts[0].startsAt", "is required."),
        (("alerts", 0, "startsAt"), NOT_YET, "alerts[0].startsAt", None),
        (("alerts", 0, "startsAt"), "yesterday", "alerts[0].startsAt", None),
        (("alerts", 0, "startsAt"), "2026-11-24T09:00:00", "alerts[0].startsAt", None),
        (("alerts", 0, "startsAt"), "2026-02-30T09:00:00Z", "alerts[0].startsAt", None),
        (("alerts", 0, "endsAt"), 1700000000, "alerts[0].endsAt", None),
    ],
)
def test_a_malformed_payload_is_refused_naming_the_field(path, value, field, problem):
    with pytest.raises(PayloadError) as refused:
        parse_webhook(with_change(path, value))

    assert refused.value.field == field
    if problem:
        assert refused.value.problem == problem


@pytest.mark.parametrize("body", [[], "alerts", None, 4])
def test_a_body_that_is_not_an_object_is_refused(body):
    with pytest.raises(PayloadError, match="must be a JSON object"):
        parse_webhook(body)


# Delivering to the endpoint

WEBHOOK = "/api/alerts/alertmanager/"
TOKEN = "alertmanager-test-token"
NOW = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)


@pytest.fixture
def intake(db, settings, time_machine):
    """Alertmanager's side: the token set on the portal, the clock at 09:05 UTC."""
    settings.ALERTMANAGER_WEBHOOK_TOKEN = TOKEN
    time_machine.move_to(NOW, tick=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    return client


def deliver(client, body):
    response = client.post(WEBHOOK, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def entries(incident, kind=TimelineKind.ALERT):
    return list(incident.timeline_entries.filter(kind=kind).values_list("text", flat=True))


def the_incident():
    [incident] = Incident.objects.all()
    return incident


@pytest.fixture
def checkout(service, search_team):
    """Two catalog services: payments-api (payments team) and search-index (search team)."""
    return ServiceFactory(name="Search index", slug="search-index", owner_team=search_team)


def test_a_firing_group_declares_an_incident_from_its_alerts(intake, checkout, service):
    answer = deliver(intake, webhook_body(alert_body(severity="critical", service="payments-api")))

    incident = the_incident()
    assert answer["incident"] == incident.reference
    assert answer["created"] is True
    assert answer["status"] == IncidentStatus.INVESTIGATING
    assert answer["alerts_firing"] == ["a1b2c3d4e5f60718"]
    assert incident.title == "Checkout is failing"
    assert incident.severity == Severity.SEV1
    assert incident.source == IncidentSource.ALERT
    assert incident.alert_group_key == GROUP_KEY
    assert list(incident.services.all()) == [service]
    assert incident.team == service.owner_team
    assert incident.declared_by is None
    assert incident.started_at == datetime(2026, 11, 24, 9, 0, 0, 123456, tzinfo=UTC)
    assert incident.detected_at == NOW
    alert = incident.alerts.get()
    assert (alert.fingerprint, alert.status) == ("a1b2c3d4e5f60718", AlertStatus.FIRING)
    assert alert.labels["service"] == "payments-api"
    assert entries(incident) == [
        "Alert CheckoutErrors fired (service=payments-api, severity=critical).\n\n"
        "CheckoutErrors (a1b2c3d4e5f60718)"
    ]
    assert len(entries(incident, TimelineKind.DECLARED)) == 1


def test_an_alert_that_started_before_the_delivery_dates_the_incident_start(intake):
    deliver(intake, webhook_body(alert_body(starts_at="2026-11-24T08:58:00Z")))

    incident = the_incident()
    assert incident.started_at == datetime(2026, 11, 24, 8, 58, tzinfo=UTC)
    assert incident.timeline_entries.get(kind=TimelineKind.ALERT).at == incident.started_at


@pytest.mark.parametrize(
    ("severities", "expected"),
    [
        (["warning", "critical", "info"], Severity.SEV1),
        (["warning", "page"], Severity.SEV2),
        (["info"], Severity.SEV4),
        (["WARNING"], Severity.SEV3),
        (["chatty"], Severity.SEV3),
        ([None], Severity.SEV3),
    ],
)
def test_the_most_severe_mapped_alert_sets_the_incident_severity(intake, severities, expected):
    alerts = [
        alert_body(fingerprint=f"f{index}", severity=severity)
        for index, severity in enumerate(severities)
    ]
    for alert in alerts:
        if alert["labels"]["severity"] is None:
            del alert["labels"]["severity"]

    deliver(intake, webhook_body(*alerts))

    assert the_incident().severity == expected


def test_the_severity_map_and_default_come_from_the_settings(intake, settings):
    settings.ALERT_SEVERITY_MAP = {"p1": "SEV1", "bogus": "SEV9"}
    settings.ALERT_DEFAULT_SEVERITY = "SEV4"

    deliver(intake, webhook_body(alert_body(severity="bogus"), group_key="a"))
    deliver(intake, webhook_body(alert_body(severity="p1"), group_key="b"))

    assert Incident.objects.get(alert_group_key="a").severity == Severity.SEV4
    assert Incident.objects.get(alert_group_key="b").severity == Severity.SEV1


def test_without_a_summary_the_alert_name_is_the_title(intake):
    deliver(intake, webhook_body(summary=""))

    assert the_incident().title == "CheckoutErrors"


def test_a_long_summary_is_shortened_to_fit_the_title(intake):
    deliver(intake, webhook_body(summary="Checkout   is\nfailing " + "badly " * 60))

    title = the_incident().title
    assert len(title) == 200
    assert title.startswith("Checkout is failing badly")
    assert title.endswith("…")


def test_service_labels_match_catalog_slugs_and_unknown_ones_are_reported(
    intake, checkout, service
):
    answer = deliver(
        intake,
        webhook_body(
            alert_body(fingerprint="f1", service="search-index"),
            alert_body(fingerprint="f2", service="no-such-service"),
            alert_body(fingerprint="f3", service="payments-api"),
        ),
    )

    incident = the_incident()
    assert set(incident.services.all()) == {checkout, service}
    assert incident.team == checkout.owner_team  # the first one named
    assert answer["unknown_services"] == ["no-such-service"]


def test_a_repeated_delivery_changes_nothing(intake, service):
    body = webhook_body(alert_body(service="payments-api"))
    deliver(intake, body)
    incident = the_incident()
    before = list(incident.timeline_entries.values_list("pk", flat=True))

    answer = deliver(intake, body)

    assert Incident.objects.count() == 1
    assert incident.alerts.count() == 1
    assert list(incident.timeline_entries.values_list("pk", flat=True)) == before
    assert answer["incident"] == incident.reference
    assert answer["created"] is False
    assert answer["alerts_firing"] == answer["alerts_resolved"] == []
    assert answer["detail"] == "Already recorded; nothing changed."


def test_a_new_alert_in_the_group_joins_the_open_incident_with_its_service(
    intake, checkout, service
):
    first = alert_body(fingerprint="f1", service="payments-api")
    deliver(intake, webhook_body(first))

    answer = deliver(
        intake, webhook_body(first, alert_body(fingerprint="f2", service="search-index"))
    )

    incident = the_incident()
    assert answer["alerts_firing"] == ["f2"]
    assert incident.alerts.count() == 2
    assert len(entries(incident)) == 2
    assert set(incident.services.all()) == {service, checkout}
    assert incident.team == service.owner_team


def test_each_resolved_alert_gets_an_entry_and_the_incident_waits_for_the_last(intake):
    one, two = alert_body(fingerprint="f1"), alert_body(fingerprint="f2")
    deliver(intake, webhook_body(one, two))

    answer = deliver(intake, webhook_body(resolved(one), two))

    incident = the_incident()
    assert answer["alerts_resolved"] == ["f1"]
    assert answer["status_change"] is None
    assert incident.status == IncidentStatus.INVESTIGATING
    assert incident.alerts.get(fingerprint="f1").status == AlertStatus.RESOLVED
    assert incident.alerts.get(fingerprint="f1").ends_at == datetime(
        2026, 11, 24, 9, 30, tzinfo=UTC
    )
    assert entries(incident)[-1].startswith("Alert CheckoutErrors resolved")


def test_when_every_alert_is_resolved_the_incident_moves_to_monitoring(intake):
    one, two = alert_body(fingerprint="f1"), alert_body(fingerprint="f2")
    deliver(intake, webhook_body(one, two))
    deliver(intake, webhook_body(resolved(one), two))

    answer = deliver(intake, webhook_body(resolved(one), resolved(two)))

    incident = the_incident()
    assert answer["status_change"] == ["investigating", "monitoring"]
    assert answer["alerts_resolved"] == ["f2"]
    assert incident.status == IncidentStatus.MONITORING
    assert incident.mitigated_at == NOW
    assert len(entries(incident)) == 4  # two fired, two resolved
    [change] = entries(incident, TimelineKind.STATUS_CHANGE)
    assert change.startswith("Status: Investigating → Monitoring")


def test_the_incident_is_mitigated_when_its_last_alert_ended_not_when_told(intake, time_machine):
    time_machine.move_to(NOW - timedelta(minutes=10), tick=False)
    one, two = alert_body(fingerprint="f1"), alert_body(fingerprint="f2")
    deliver(intake, webhook_body(one, two))
    time_machine.move_to(NOW, tick=False)

    # Alertmanager tells of the recovery a few minutes late (group_interval, a retry).
    deliver(
        intake,
        webhook_body(
            resolved(one, ends_at="2026-11-24T09:01:00Z"),
            resolved(two, ends_at="2026-11-24T09:02:30Z"),
        ),
    )

    incident = the_incident()
    assert incident.status == IncidentStatus.MONITORING
    assert incident.mitigated_at == datetime(2026, 11, 24, 9, 2, 30, tzinfo=UTC)
    [change] = incident.timeline_entries.filter(kind=TimelineKind.STATUS_CHANGE)
    assert change.at == incident.mitigated_at


def test_an_end_before_the_incident_was_detected_is_mitigated_at_its_detection(intake):
    # Declared at 09:05, when the portal first heard of it: an earlier end cannot come first.
    deliver(intake, webhook_body())

    deliver(intake, webhook_body(resolved(alert_body(), ends_at="2026-11-24T09:01:00Z")))

    incident = the_incident()
    assert incident.mitigated_at == incident.detected_at == NOW


def test_a_resolution_delivered_again_changes_nothing(intake):
    deliver(intake, webhook_body())
    body = webhook_body(resolved(alert_body()))
    deliver(intake, body)
    count = TimelineEntry.objects.count()

    answer = deliver(intake, body)

    assert TimelineEntry.objects.count() == count
    assert answer["status_change"] is None
    assert answer["detail"] == "Already recorded; nothing changed."


def test_an_identified_incident_also_moves_to_monitoring_when_its_alerts_resolve(intake, sre_lead):
    deliver(intake, webhook_body())
    incident_change_status(incident=the_incident(), status=IncidentStatus.IDENTIFIED, by=sre_lead)

    deliver(intake, webhook_body(resolved(alert_body())))

    assert the_incident().status == IncidentStatus.MONITORING


def test_an_alert_firing_again_reopens_a_monitoring_incident(intake):
    deliver(intake, webhook_body())
    deliver(intake, webhook_body(resolved(alert_body(), ends_at="2026-11-24T09:02:00Z")))

    answer = deliver(intake, webhook_body(alert_body(starts_at="2026-11-24T09:04:00Z")))

    incident = the_incident()
    assert answer["status_change"] == ["monitoring", "investigating"]
    assert incident.status == IncidentStatus.INVESTIGATING
    assert incident.mitigated_at is None
    assert incident.alerts.get().status == AlertStatus.FIRING
    assert incident.alerts.get().ends_at is None
    assert entries(incident)[-1].startswith("Alert CheckoutErrors fired again")


def test_an_alert_firing_after_the_incident_was_resolved_opens_a_new_one(intake, sre_lead):
    deliver(intake, webhook_body())
    first = the_incident()
    incident_change_status(incident=first, status=IncidentStatus.RESOLVED, by=sre_lead)
    deliver(intake, webhook_body(resolved(alert_body(), ends_at="2026-11-24T09:02:00Z")))

    answer = deliver(intake, webhook_body(alert_body(starts_at="2026-11-24T09:04:00Z")))

    second = Incident.objects.exclude(pk=first.pk).get()
    assert answer["created"] is True
    assert answer["incident"] == second.reference
    assert second.alert_group_key == first.alert_group_key
    assert first.alerts.count() == second.alerts.count() == 1


def test_a_resolution_for_a_group_without_an_open_incident_writes_nothing(intake):
    answer = deliver(intake, webhook_body(resolved(alert_body())))

    assert answer["incident"] is None
    assert answer["detail"] == "No open incident for this alert group; nothing to resolve."
    assert not Incident.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_the_endpoint_answers_what_it_did_for_alertmanagers_logs(intake):
    answer = deliver(intake, webhook_body())

    assert set(answer) == {
        "incident",
        "status",
        "created",
        "alerts_firing",
        "alerts_resolved",
        "status_change",
        "unknown_services",
        "detail",
    }
    assert answer["incident"].startswith("INC-2026-")


# Concurrent deliveries


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_a_new_group_open_a_single_incident(settings):
    """Alertmanager retries a slow delivery while the first is still being handled, and
    HA pairs both send: the same group arriving at once must not open two incidents."""
    settings.ALERTMANAGER_WEBHOOK_TOKEN = TOKEN
    body = webhook_body()
    start = threading.Barrier(4)
    answers = []

    def deliver_in_thread():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        start.wait()
        try:
            answers.append(client.post(WEBHOOK, body, format="json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_in_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [answer.status_code for answer in answers] == [200] * 4
    assert sum(answer.json()["created"] for answer in answers) == 1
    incident = the_incident()
    assert incident.reference.endswith("-0001")  # the losers gave their numbers back
    assert incident.alerts.count() == 1
    assert len(entries(incident)) == 1


# Who may deliver, and bad input


def nothing_written():
    return not (
        Incident.objects.exists()
        or IncidentAlert.objects.exists()
        or TimelineEntry.objects.exists()
    )


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "Missing bearer token: send 'Authorization: Bearer <token>'."),
        ("Bearer ", "Missing bearer token: send 'Authorization: Bearer <token>'."),
        (f"Token {TOKEN}", "Missing bearer token: send 'Authorization: Bearer <token>'."),
        ("Bearer not-the-token", "Wrong bearer token."),
        (f"Bearer {TOKEN}x", "Wrong bearer token."),
    ],
)
def test_a_missing_or_wrong_token_is_refused_with_the_reason(intake, authorization, reason):
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.post(WEBHOOK, webhook_body(), format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": reason}
    assert response["WWW-Authenticate"] == 'Bearer realm="alertmanager"'
    assert nothing_written()


def test_without_a_configured_token_every_delivery_is_refused(intake, settings):
    settings.ALERTMANAGER_WEBHOOK_TOKEN = ""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer ")

    response = client.post(WEBHOOK, webhook_body(), format="json")

    assert response.status_code == 401
    assert "ALERTMANAGER_WEBHOOK_TOKEN is not set" in response.json()["detail"]
    assert nothing_written()


@pytest.mark.parametrize("who", ["owner", "viewer", "sre_lead"])
def test_portal_users_cannot_deliver_alerts_with_their_own_credentials(
    intake, request, who, api_client_for, client_for
):
    user = request.getfixturevalue(who)

    by_token = api_client_for(user).post(WEBHOOK, webhook_body(), format="json")
    by_session = client_for(user).post(WEBHOOK, webhook_body(), content_type="application/json")

    assert by_token.status_code == by_session.status_code == 401
    assert nothing_written()


def test_bad_json_is_refused_with_the_reason_and_writes_nothing(intake):
    response = intake.post(WEBHOOK, '{"version": "4", "alerts": [', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert nothing_written()


def test_a_payload_of_another_shape_is_refused_naming_the_field_and_writes_nothing(intake):
    body = webhook_body(alert_body(fingerprint="f1"), alert_body(fingerprint="f2"))
    body["alerts"][1]["startsAt"] = "soon"

    response = intake.post(WEBHOOK, body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "alerts[1].startsAt": ["must be an RFC 3339 time with a UTC offset, not 'soon'."]
    }
    assert nothing_written()


def test_a_body_that_is_not_an_object_is_refused_and_writes_nothing(intake):
    response = intake.post(WEBHOOK, [webhook_body()], format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["The body must be a JSON object."]}
    assert nothing_written()


def test_a_form_encoded_body_is_refused_as_an_unsupported_media_type(intake):
    response = intake.post(WEBHOOK, "version=4", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert nothing_written()


def test_an_alert_the_database_cannot_hold_is_refused_and_nothing_of_the_delivery_stays(intake):
    response = intake.post(
        WEBHOOK,
        webhook_body(alert_body(fingerprint="f1"), alert_body(fingerprint="f" * 101)),
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"alerts[1].fingerprint": ["must be at most 100 characters."]}
    assert nothing_written()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda body: body["alerts"][0]["labels"].update(service="pay\u0000ments"),
            "alerts[0].labels.service",
        ),
        (
            lambda body: body["alerts"][0]["labels"].update({"ser\u0000vice": "payments"}),
            "alerts[0].labels.service",
        ),
        (lambda body: body["alerts"][0].update(fingerprint="a1\u0000b2"), "alerts[0].fingerprint"),
        (
            lambda body: body["alerts"][0]["annotations"].update(summary="\u0000"),
            "alerts[0].annotations.summary",
        ),
        (lambda body: body.update(groupKey='{}:{alertname="a\u0000"}'), "groupKey"),
        (lambda body: body["commonLabels"].update(alertname="\u0000"), "commonLabels.alertname"),
    ],
    ids=["label value", "label name", "fingerprint", "annotation", "group key", "common label"],
)
def test_nul_characters_are_refused_naming_the_field(intake, change, field):
    body = webhook_body()
    change(body)
    response = intake.post(WEBHOOK, body, format="json")
    assert response.status_code == 400
    assert response.json() == {field: ["must not contain NUL characters."]}
    assert nothing_written()


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field", "problem"),
    [
        ("0002-01-01T00:00:00Z", NOT_YET, "alerts[0].startsAt", "Cannot be before 2021-11-25"),
        ("2019-06-01T00:00:00Z", NOT_YET, "alerts[0].startsAt", "Cannot be before 2021-11-25"),
        ("9999-12-31T00:00:00Z", NOT_YET, "alerts[0].startsAt", "Cannot be in the future."),
        (
            "2026-11-24T09:00:00Z",
            "3026-01-01T00:00:00Z",
            "alerts[0].endsAt",
            "Cannot be in the future.",
        ),
    ],
)
def test_implausible_alert_times_are_refused_naming_the_field(
    intake, starts_at, ends_at, field, problem
):
    body = webhook_body(alert_body(starts_at=starts_at, ends_at=ends_at))
    response = intake.post(WEBHOOK, body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field][0].startswith(problem)
    assert nothing_written()


def test_an_alert_a_few_hours_ahead_of_our_clock_is_taken(intake):
    deliver(intake, webhook_body(alert_body(starts_at="2026-11-24T12:00:00Z")))
    assert the_incident().started_at == NOW


def test_more_alerts_than_a_delivery_may_hold_are_refused_with_what_to_configure(intake, settings):
    from incidents import limits

    alerts = [
        alert_body(fingerprint=f"{n:016x}") for n in range(limits.MAX_ALERTS_PER_DELIVERY + 1)
    ]
    response = intake.post(WEBHOOK, webhook_body(*alerts), format="json")
    assert response.status_code == 400
    [problem] = response.json()["alerts"]
    assert problem.startswith("holds 10,001 alerts; the portal takes at most 10,000 per delivery.")
    assert "max_alerts" in problem
    assert nothing_written()


def test_the_endpoint_takes_only_posts(intake):
    assert intake.get(WEBHOOK).status_code == 405


def test_the_webhook_is_in_the_api_schema_with_bearer_authentication(owner, api_client_for):
    GENERATOR_STATS.reset()

    schema = api_client_for(owner).get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"][WEBHOOK]["post"]
    assert operation["security"] == [{"alertmanagerToken": []}]
    assert schema["components"]["securitySchemes"]["alertmanagerToken"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert [m for m in GENERATOR_STATS._warn_cache if "Alertmanager" in m] == []


def test_a_more_severe_alert_joining_the_group_raises_the_incident_severity(intake):
    first = alert_body(fingerprint="f1", severity="warning")
    deliver(intake, webhook_body(first))

    deliver(intake, webhook_body(first, alert_body(fingerprint="f2", severity="critical")))

    incident = the_incident()
    assert incident.severity == Severity.SEV1
    [change] = entries(incident, TimelineKind.SEVERITY_CHANGE)
    assert change.startswith("Severity: SEV3 → SEV1")


def test_alerts_never_lower_a_severity_a_person_raised(intake, sre_lead):
    first = alert_body(fingerprint="f1", severity="warning")
    deliver(intake, webhook_body(first))
    incident_change_severity(incident=the_incident(), severity=Severity.SEV2, by=sre_lead)

    deliver(intake, webhook_body(first, alert_body(fingerprint="f2", severity="info")))
    deliver(intake, webhook_body(first, alert_body(fingerprint="f3", severity="unmapped")))

    assert the_incident().severity == Severity.SEV2


# Re-deliveries and notifications out of order


def test_a_stale_firing_notification_after_the_resolved_one_changes_nothing(intake):
    """Alertmanager retries a firing notification that arrives after the resolved one (same
    fingerprint, same startsAt): the incident stays in monitoring however often it comes."""
    firing = webhook_body()
    deliver(intake, firing)
    deliver(intake, webhook_body(resolved(alert_body(), ends_at="2026-11-24T09:02:00Z")))
    incident = the_incident()
    entries_before = incident.timeline_entries.count()

    answers = [deliver(intake, firing) for _ in range(12)]

    incident.refresh_from_db()
    assert incident.status == IncidentStatus.MONITORING
    assert incident.alerts.get().status == AlertStatus.RESOLVED
    assert incident.timeline_entries.count() == entries_before
    assert {answer["detail"] for answer in answers} == {"Already recorded; nothing changed."}
    assert all(answer["status_change"] is None for answer in answers)


def test_a_repeated_firing_after_a_person_resolved_the_incident_opens_no_new_one(intake, sre_lead):
    """The alert still fires (repeat_interval re-sends it) after someone resolved the
    incident: it is the same firing, not a new incident."""
    deliver(intake, webhook_body())
    incident_change_status(incident=the_incident(), status=IncidentStatus.RESOLVED, by=sre_lead)

    answer = deliver(intake, webhook_body())

    assert Incident.objects.count() == 1
    assert answer["incident"] is None
    assert answer["detail"].startswith("Already recorded")


def test_a_late_resolution_of_an_earlier_firing_leaves_the_current_one_firing(intake):
    deliver(intake, webhook_body(alert_body(starts_at="2026-11-24T09:00:00Z")))
    deliver(intake, webhook_body(resolved(alert_body(starts_at="2026-11-24T09:00:00Z"))))
    deliver(intake, webhook_body(alert_body(starts_at="2026-11-24T09:03:00Z")))
    incident = the_incident()
    assert incident.status == IncidentStatus.INVESTIGATING

    # The resolution of the 09:00 firing, retried after the 09:03 one fired.
    answer = deliver(intake, webhook_body(resolved(alert_body(starts_at="2026-11-24T09:00:00Z"))))

    incident.refresh_from_db()
    assert answer["alerts_resolved"] == []
    assert incident.status == IncidentStatus.INVESTIGATING
    assert incident.alerts.get().status == AlertStatus.FIRING


# Large groups


def many_alerts(count, status="firing"):
    alerts = [alert_body(fingerprint=f"{n:016x}", instance=f"host-{n}") for n in range(count)]
    return [alert if status == "firing" else resolved(alert) for alert in alerts]


@pytest.mark.parametrize("status", ["firing", "resolved"])
def test_a_delivery_costs_the_same_queries_for_ten_alerts_or_five_hundred(intake, status):
    counts = {}
    for count in (10, 500):
        group = f"{GROUP_KEY}-{count}"
        deliver(intake, webhook_body(*many_alerts(count), group_key=group))
        body = webhook_body(*many_alerts(count, status), group_key=group)
        if status == "firing":
            for alert in body["alerts"]:
                alert["startsAt"] = "2026-11-24T09:01:00Z"  # fired again
        with CaptureQueriesContext(connection) as queries:
            deliver(intake, body)
        counts[count] = len(queries)
    assert counts[10] == counts[500]


def test_a_large_group_gets_a_few_timeline_entries_and_every_alert(intake):
    from incidents.alertmanager.intake import ALERT_ENTRIES_PER_DELIVERY

    deliver(intake, webhook_body(*many_alerts(300)))

    incident = the_incident()
    assert incident.alerts.count() == 300
    texts = entries(incident)
    assert len(texts) == ALERT_ENTRIES_PER_DELIVERY + 1
    assert texts[-1].startswith(f"{300 - ALERT_ENTRIES_PER_DELIVERY} more alerts fired (")


def test_a_body_over_the_delivery_limit_is_a_413_saying_what_to_configure(intake, monkeypatch):
    from incidents import limits

    monkeypatch.setattr(limits, "MAX_DELIVERY_BYTES", 2_000)
    response = intake.post(WEBHOOK, webhook_body(*many_alerts(20)), format="json")
    assert response.status_code == 413
    assert "max_alerts" in response.json()["detail"]
    assert nothing_written()


def test_a_group_larger_than_the_portals_request_limit_is_still_taken(intake, settings):
    """A delivery has a limit of its own: the portal's DATA_UPLOAD_MAX_MEMORY_SIZE would turn
    a few thousand real alerts into an HTML 400 that Alertmanager retries for ever."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    answer = deliver(intake, webhook_body(*many_alerts(100)))
    assert answer["created"] and len(answer["alerts_firing"]) == 100


def test_json_nested_deeper_than_the_parser_goes_is_a_400(intake):
    body = '{"version": "4", "alerts": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = intake.post(WEBHOOK, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "JSON nested deeper than 64 levels."
    assert nothing_written()
