"""manage.py load_compliance_checks (all or nothing) and run_compliance_checks."""

import pytest
import time_machine
from django.core.management import CommandError, call_command

from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.runs import ComplianceResult
from tests.compliance.conftest import make_check
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db

GOOD = """\
name: Backups encrypted
kind: custom
frequency: weekly
severity: medium
method: prometheus
query: min(backup_encrypted{service="{{service}}"})
comparison: eq
threshold: 1
---
- name: Data retention
  frequency: daily
  method: prometheus
  kind: data_retention
  query: max(oldest_days{service="{{service}}"})
  threshold: "{{retention_days}}"
- name: Deletion requests answered
  method: attestation
  frequency: monthly
  applies_to: tag
  tag: pci
"""

BAD = """\
name: Backups encrypted
method: prometheus
frequency: weekly
query: min(backup_encrypted)
threshold: 1
---
name: Export
method: http
frequency: sometimes
http_url: http://{{service}}/export
---
name: Tagged
method: attestation
frequency: monthly
applies_to: tag
tag: no-such-tag
---
name: Typo
methd: http
"""


def load(tmp_path, text):
    path = tmp_path / "checks.yaml"
    path.write_text(text)
    call_command("load_compliance_checks", str(path))


def test_a_check_file_creates_and_updates_checks_by_slug(tmp_path, capsys):
    TagFactory(name="pci", slug="pci")

    load(tmp_path, GOOD)

    out = capsys.readouterr().out
    assert "Created backups-encrypted" in out
    assert "Updated data-retention" in out
    retention = ComplianceCheck.objects.get(slug="data-retention")
    assert retention.query == 'max(oldest_days{service="{{service}}"})'
    assert ComplianceCheck.objects.get(slug="deletion-requests-answered").tag.slug == "pci"
    assert ComplianceCheck.objects.get(slug="backups-encrypted").threshold == "1"


def test_a_bad_check_file_loads_nothing_and_names_each_document_and_field(tmp_path):
    before = list(ComplianceCheck.objects.values_list("slug", "query"))

    with pytest.raises(CommandError) as caught:
        load(tmp_path, BAD)

    message = str(caught.value)
    assert "checks.yaml, document 1 (Backups encrypted): query: Use {{service}}" in message
    assert "checks.yaml, document 2 (Export): frequency:" in message
    assert "checks.yaml, document 3 (Tagged): tag: no tag “no-such-tag”" in message
    assert "checks.yaml, document 4 (Typo): methd: is not a field of a check." in message
    assert list(ComplianceCheck.objects.values_list("slug", "query")) == before


def test_malformed_yaml_is_refused_with_where(tmp_path):
    with pytest.raises(CommandError) as caught:
        load(tmp_path, "name: [unclosed\n")

    assert "not valid YAML" in str(caught.value)


def test_run_compliance_checks_runs_due_checks_here_and_prints_each_result(
    only_custom_checks, prometheus_server, data_end, payments_api, ledger, capsys, smtp_sink
):
    make_check(name="Retention", slug="retention")

    with time_machine.travel(data_end, tick=False), pytest.raises(CommandError) as failed:
        call_command("run_compliance_checks")

    out = capsys.readouterr().out
    assert "retention on payments-api: pass — 20 (must be ≤ 30)" in out
    assert "retention on ledger: fail — 45 (must be ≤ 30)" in out
    assert "1 check(s) failed" in str(failed.value)
    # Run again: nothing is due until tomorrow, unless --now.
    with time_machine.travel(data_end, tick=False):
        call_command("run_compliance_checks")
        assert "Nothing to run" in capsys.readouterr().out
        call_command("run_compliance_checks", "--now", "--service", "payments-api")
    assert "retention on payments-api: pass" in capsys.readouterr().out
    assert ComplianceResult.objects.count() == 3


def test_run_compliance_checks_refuses_unknown_names():
    with pytest.raises(CommandError, match="No compliance check has the slug “nope”"):
        call_command("run_compliance_checks", "--check", "nope")
    with pytest.raises(CommandError, match="No service has the slug “nope”"):
        call_command("run_compliance_checks", "--service", "nope")
