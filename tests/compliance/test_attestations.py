"""Attestation checks: an engineer of the owner team attests at the check's frequency, with
evidence; no attestation in time is a failure."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.celery import app as celery_app
from portal.compliance import tasks
from portal.compliance.choices import CheckMethod, FindingStatus, Frequency, Outcome
from portal.compliance.models.findings import ComplianceFinding
from portal.compliance.models.runs import ComplianceAttestation, ComplianceStatus
from tests.compliance.conftest import make_check

pytestmark = pytest.mark.django_db

MID_MARCH = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def setup(settings, monkeypatch):
    settings.TIME_ZONE = "UTC"
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)


@pytest.fixture
def review_check(only_custom_checks):
    return make_check(
        name="Processing records reviewed",
        slug="processing-records",
        method=CheckMethod.ATTESTATION,
        query="",
        threshold="",
        frequency=Frequency.MONTHLY,
    )


def beat(at, callbacks):
    with time_machine.travel(at, tick=False), callbacks(execute=True):
        tasks.run_due_compliance_checks()


def attest(client, service, at, **data):
    with time_machine.travel(at, tick=False):
        return client.post(
            f"/compliance/checks/processing-records/services/{service.slug}/attest/",
            data or {"evidence_url": "https://tickets.example/GDPR-12", "note": "Reviewed."},
        )


def test_a_new_attestation_check_is_first_due_when_its_period_ends(
    review_check, payments_api, django_capture_on_commit_callbacks, client_for, owner
):
    beat(MID_MARCH, django_capture_on_commit_callbacks)

    status = ComplianceStatus.objects.get()
    assert status.due_at == datetime(2026, 4, 1, tzinfo=UTC)
    assert status.checked_at is None
    with time_machine.travel(MID_MARCH, tick=False):
        page = client_for(owner).get(f"/services/{payments_api.slug}/")
    assert "attestation due by 31 Mar" in page.content.decode()


def test_attesting_passes_at_once_and_covers_the_period_until_the_next_one_ends(
    review_check,
    payments_api,
    django_capture_on_commit_callbacks,
    client_for,
    owner,
    teammate,
    smtp_sink,
):
    beat(MID_MARCH, django_capture_on_commit_callbacks)

    response = attest(client_for(owner), payments_api, MID_MARCH)

    assert response.status_code == 302
    attestation = ComplianceAttestation.objects.get()
    assert attestation.attested_by == owner
    assert attestation.evidence_url == "https://tickets.example/GDPR-12"
    status = ComplianceStatus.objects.get()
    assert status.outcome == Outcome.PASS
    assert "Attested by Olivia Owner on 2026-03-14" in status.last_result.detail

    # When April starts, March's attestation is the one in time: still a pass.
    beat(datetime(2026, 4, 1, 0, 1, tzinfo=UTC), django_capture_on_commit_callbacks)
    assert ComplianceStatus.objects.get().outcome == Outcome.PASS
    # Nobody attested in April: when May starts, that is a failure and a finding.
    beat(datetime(2026, 5, 1, 0, 1, tzinfo=UTC), django_capture_on_commit_callbacks)
    status.refresh_from_db()
    assert status.outcome == Outcome.FAIL
    assert "No attestation since 2026-04-01" in status.last_result.detail
    finding = ComplianceFinding.objects.get()
    assert finding.status == FindingStatus.OPEN
    assert len(smtp_sink.delivered) == 1

    # A teammate attests in May: the check passes and the finding resolves itself.
    attest(client_for(teammate), payments_api, datetime(2026, 5, 3, tzinfo=UTC))
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    assert ComplianceStatus.objects.get().outcome == Outcome.PASS


def test_only_the_owner_team_s_engineers_and_sre_leads_attest(
    review_check,
    payments_api,
    django_capture_on_commit_callbacks,
    client_for,
    outsider,
    viewer,
    sre_lead,
):
    beat(MID_MARCH, django_capture_on_commit_callbacks)

    assert attest(client_for(outsider), payments_api, MID_MARCH).status_code == 403
    assert attest(client_for(viewer), payments_api, MID_MARCH).status_code == 403
    assert not ComplianceAttestation.objects.exists()
    assert attest(client_for(sre_lead), payments_api, MID_MARCH).status_code == 302


def test_an_attestation_without_evidence_is_refused_on_the_form(
    review_check, payments_api, django_capture_on_commit_callbacks, client_for, owner
):
    beat(MID_MARCH, django_capture_on_commit_callbacks)

    response = attest(client_for(owner), payments_api, MID_MARCH, evidence_url="", note="   ")

    assert response.status_code == 400
    assert "Give the evidence" in response.content.decode()
    assert not ComplianceAttestation.objects.exists()


def test_an_attestation_check_fails_when_the_previous_period_went_unattested(
    review_check, payments_api, django_capture_on_commit_callbacks, client_for, owner
):
    beat(MID_MARCH, django_capture_on_commit_callbacks)
    attest(client_for(owner), payments_api, MID_MARCH - timedelta(days=40))

    beat(datetime(2026, 4, 1, 0, 1, tzinfo=UTC), django_capture_on_commit_callbacks)

    assert ComplianceStatus.objects.get().outcome == Outcome.FAIL
