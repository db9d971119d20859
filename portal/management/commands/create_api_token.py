"""Give a user an API token for pipelines and bots: `manage.py create_api_token USERNAME`."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = (
        "Create the API token of a user, or show the one they already have. "
        "The token is printed alone on the last line, so scripts can take it with `tail -n 1`."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f'No user is named "{username}".') from None
        if not user.is_active:
            # The API refuses inactive users' tokens: a token made now would not work.
            raise CommandError(f'The user "{username}" is inactive; activate them first.')
        token, created = Token.objects.get_or_create(user=user)
        if created:
            self.stdout.write(f"Created an API token for {username}:")
        else:
            self.stdout.write(f"{username} already has this API token:")
        self.stdout.write(token.key)
