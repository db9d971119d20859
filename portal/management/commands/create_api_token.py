"""Give a user an API token for pipelines and bots:
`manage.py create_api_token USERNAME [--expires DAYS]`."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.api.tokens import token_create


class Command(BaseCommand):
    help = (
        "Create a new API token for a user, never expiring unless --expires is given. The token "
        "is printed alone on the last line, so scripts can take it with `tail -n 1`; it is "
        "stored hashed and cannot be shown again. The user's other tokens keep working."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--expires",
            type=int,
            metavar="DAYS",
            help="Days after which the token stops working.",
        )

    def handle(self, *args, username, expires, **options):
        if expires is not None and expires < 1:
            raise CommandError("--expires must be a whole number of days, at least 1.")
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f'No user is named "{username}".') from None
        if not user.is_active:
            # The API refuses inactive users' tokens: a token made now would not work.
            raise CommandError(f'The user "{username}" is inactive; activate them first.')
        record, token = token_create(user=user, expires_in_days=expires)
        until = f"until {record.expiry:%Y-%m-%d %H:%M} UTC" if record.expiry else "without expiry"
        self.stdout.write(
            f"Created an API token for {username}, valid {until} "
            "(shown this once; it is stored hashed):"
        )
        self.stdout.write(token)
