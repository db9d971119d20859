from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from services.models.catalog import Team
from toil.actions.toil import toil_import
from toil.spreadsheet import MAX_BYTES, SpreadsheetError, read_toil_csv


class Command(BaseCommand):
    help = (
        "Import a toil spreadsheet (CSV: Task, Frequency, Time (min), Monthly Toil, Automation "
        "Priority) into a team's inventory, all or nothing: tasks the team has are updated, "
        "new ones added."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv", help="The spreadsheet, as CSV.")
        parser.add_argument("--team", required=True, metavar="SLUG", help="The team's slug.")

    def handle(self, *args, file, team, **options):
        owner = Team.objects.filter(slug=team).first()
        if owner is None:
            raise CommandError(f"No team has the slug “{team}”. Nothing was imported.")
        path = Path(file)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise CommandError(f"{file} is over {MAX_BYTES // 1_000_000} MB; split it up.")
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error
        try:
            result = toil_import(team=owner, rows=read_toil_csv(data))
        except SpreadsheetError as error:
            raise CommandError(f"{error} Nothing was imported.") from error
        except ValidationError as error:
            raise CommandError(f"{' '.join(error.messages)} Nothing was imported.") from error
        self.stdout.write(
            f"Imported into {owner.name}: {result.created} new, {result.updated} updated."
        )
