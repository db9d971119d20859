"""The alert intake end to end: alerts pushed into a real Alertmanager reach the portal's
live test server through its webhook, and the incident follows them."""

import time

import pytest
from pytest_django.asserts import assertContains

from incidents.choices import AlertStatus, IncidentSource, IncidentStatus, Severity, TimelineKind
from incidents.models.incidents import Incident

pytestmark = pytest.mark.django_db(transaction=True)

CHECKOUT_ERRORS = {"alertname": "CheckoutErrors", "severity": "critical", "service": "payments-api"}
ON_WEB_1 = {**CHECKOUT_ERRORS, "instance": "web-1"}
ON_WEB_2 = {**CHECKOUT_ERRORS, "severity": "warning", "instance": "web-2"}


def wait_until(condition, what: str, timeout: float = 30):
    """Poll until condition() returns something true; Alertmanager notifies within about
    a second (group_wait and group_interval) of each change."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"Timed out after {timeout} s waiting for {what}")


def alert_incident():
    return Incident.objects.filter(source=IncidentSource.ALERT).first()


def alert_entries(incident) -> list[str]:
    return list(
        incident.timeline_entries.filter(kind=TimelineKind.ALERT).values_list("text", flat=True)
    )


def test_alerts_from_alertmanager_open_an_incident_that_moves_to_monitoring_when_resolved(
    alertmanager, service, api_client_for, client_for, owner
):
    api = api_client_for(owner)

    alertmanager.push(ON_WEB_1, ON_WEB_2, summary="Checkout is failing")

    wait_until(
        lambda: alert_incident() and len(alert_entries(alert_incident())) == 2,
        "the incident with both alerts on its timeline",
    )
    incident = alert_incident()
    assert incident.title == "Checkout is failing"
    assert incident.severity == Severity.SEV1
    assert incident.status == IncidentStatus.INVESTIGATING
    assert list(incident.services.all()) == [service]
    assert incident.alert_group_key == '{}:{alertname="CheckoutErrors"}'
    detail = f"/api/incidents/{incident.pk}/"
    [listed] = api.get("/api/incidents/", {"open": "true"}).json()["results"]
    assert listed["reference"] == incident.reference
    assert (listed["source"], listed["services"]) == ("alert", ["payments-api"])

    alertmanager.push(ON_WEB_1, ended=True)

    wait_until(
        lambda: incident.alerts.filter(status=AlertStatus.RESOLVED).count() == 1,
        "the first alert's resolution",
    )
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING  # web-2 still fires

    alertmanager.push(ON_WEB_2, ended=True)

    wait_until(
        lambda: api.get(detail).json()["status"] == IncidentStatus.MONITORING,
        "the move to monitoring",
    )
    shown = api.get(detail).json()
    assert {alert["status"] for alert in shown["alerts"]} == {AlertStatus.RESOLVED}
    assert shown["mitigated_at"] is not None
    texts = alert_entries(incident)
    assert [text.split(" (")[0] for text in texts] == [
        "Alert CheckoutErrors fired",
        "Alert CheckoutErrors fired",
        "Alert CheckoutErrors resolved",
        "Alert CheckoutErrors resolved",
    ]
    assert "instance=web-1" in texts[2]
    assert "instance=web-2" in texts[3]
    page = client_for(owner).get(incident.get_absolute_url())
    assert page.status_code == 200
    assertContains(page, incident.reference)
    assertContains(page, "Alert CheckoutErrors resolved", count=2)
    assert Incident.objects.count() == 1
    assert incident.alerts.count() == 2
