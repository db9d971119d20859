"""Fixtures for the incident tests: a real Alertmanager that notifies the live test server."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests

from services.choices import MembershipRole
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.servers import start_alertmanager

ALERTMANAGER_CONFIG = """
route:
  receiver: reliability-portal
  group_by: [alertname]
  # Notify at once and on every change, so the test waits seconds, not minutes.
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: reliability-portal
    webhook_configs:
      - url: {url}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


@dataclass
class RunningAlertmanager:
    url: str

    def push(self, *labels: dict, summary: str = "", ended: bool = False) -> None:
        """Raise alerts with these label sets through Alertmanager's API v2, as Prometheus
        does; ``ended`` sends them with an end time in the past, which resolves them."""
        alerts = []
        for label_set in labels:
            alert = {"labels": label_set, "annotations": {"summary": summary} if summary else {}}
            if ended:
                alert["endsAt"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
            alerts.append(alert)
        response = requests.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=5)
        response.raise_for_status()


@pytest.fixture
def alertmanager(live_server, settings):
    """Alertmanager on loopback, sending its webhook to the live server with the token
    the portal expects."""
    token = secrets.token_urlsafe(24)
    settings.ALERTMANAGER_WEBHOOK_TOKEN = token
    config = ALERTMANAGER_CONFIG.format(
        url=f"{live_server.url}/api/alerts/alertmanager/", token=token
    )
    server, url = start_alertmanager(config)
    yield RunningAlertmanager(url=url)
    server.stop()


@pytest.fixture
def reviewer(db):
    """An engineer of another team, who reviews post-mortems (reviewers are engineers or SRE
    leads, and not among a post-mortem's writers)."""
    user = UserFactory(username="rita", first_name="Rita", last_name="Reviewer")
    team = TeamFactory(name="Reliability", slug="reliability")
    MembershipFactory(user=user, team=team, role=MembershipRole.ENGINEER)
    return user
