"""Load compliance check definitions from a YAML file: all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.compliance.actions.checks import CheckFileError, compliance_checks_load


class Command(BaseCommand):
    help = (
        "Create or update (by slug) the compliance checks of a YAML file: one check per "
        "document, or a list. Nothing is written when any check is invalid; every error names "
        "the document and the field."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The YAML file.")

    def handle(self, *args, file, **options):
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            loaded = compliance_checks_load(text=text, source=path.name)
        except CheckFileError as error:
            raise CommandError("Nothing was loaded:\n" + "\n".join(error.errors)) from error
        for check, created in loaded:
            self.stdout.write(f"{'Created' if created else 'Updated'} {check.slug}: {check.name}")
