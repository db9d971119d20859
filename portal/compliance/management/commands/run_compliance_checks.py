"""Run compliance checks in the foreground and print their results."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.compliance.actions.runs import compliance_status_run, compliance_statuses_claim
from portal.compliance.actions.statuses import compliance_statuses_sync
from portal.compliance.choices import Outcome
from portal.compliance.models.checks import ComplianceCheck
from portal.compliance.models.runs import ComplianceStatus
from services.models.catalog import Service


class Command(BaseCommand):
    help = (
        "Run the compliance checks that are due (all of them with --now), here rather than in "
        "the worker, and print each result. Exits non-zero when one failed or errored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", metavar="SLUG", help="Only this check (its slug).")
        parser.add_argument("--service", metavar="SLUG", help="Only this service (its slug).")
        parser.add_argument(
            "--now", action="store_true", help="Run them even when they are not due."
        )

    def handle(self, *args, check=None, service=None, now=False, **options):
        statuses = ComplianceStatus.objects.all()
        if check:
            if not ComplianceCheck.objects.filter(slug=check).exists():
                raise CommandError(f"No compliance check has the slug “{check}”.")
            statuses = statuses.filter(compliance_check__slug=check)
        if service:
            if not Service.objects.filter(slug=service).exists():
                raise CommandError(f"No service has the slug “{service}”.")
            statuses = statuses.filter(service__slug=service)
        compliance_statuses_sync(now=timezone.now())
        claimed = compliance_statuses_claim(now=timezone.now(), statuses=statuses, force=now)
        if not claimed:
            self.stdout.write(
                "Nothing to run: no check applies"
                + ("." if now else ", or none is due (--now runs them anyway).")
            )
            return
        bad = 0
        for status_id in claimed:
            result = compliance_status_run(status_id=status_id)
            if result is None:
                continue
            bad += result.outcome in (Outcome.FAIL, Outcome.ERROR)
            self.stdout.write(
                f"{result.compliance_check.slug} on {result.service.slug}: "
                f"{result.get_outcome_display().lower()} — {result.detail}"
            )
        self.stdout.write(f"{len(claimed)} run, {bad} failed or in error.")
        if bad:
            raise CommandError(f"{bad} check(s) failed or errored.", returncode=1)
