"""API tokens for pipelines and bots: django-rest-knox's, stored as SHA-512 digests.

A token is shown once, when it is made (``manage.py create_api_token``, or the admin's add
page); the database keeps its digest and its first characters (the prefix the admin lists),
so a leaked database or admin screen gives no working token. A token may expire. Clients
send it as before: ``Authorization: Token <token>``.
"""

import re
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox import auth
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import exceptions

# Knox makes 64 hex digits; keys moved over from DRF's plain tokens have 40.
TOKEN_FORMAT = re.compile(rb"[0-9a-f]{40,64}")


def token_create(*, user, expires_in_days: int | None = None) -> tuple[AuthToken, str]:
    """A new token for the user, never expiring unless told; returns the record and the
    token itself, which is not stored and cannot be shown again."""
    expiry = timedelta(days=expires_in_days) if expires_in_days else None
    return AuthToken.objects.create(user=user, expiry=expiry)


class TokenAuthentication(auth.TokenAuthentication):
    """Knox's tokens, checked in one query: the digest of what the client sent is the
    record's primary key. A malformed token is refused before any lookup (a NUL or a
    non-UTF-8 byte would otherwise reach the database or the decoder); an expired one is
    refused and kept, so the admin still shows whose it was."""

    def authenticate_credentials(self, token):
        if not TOKEN_FORMAT.fullmatch(token):
            raise exceptions.AuthenticationFailed("Invalid token.")
        record = (
            AuthToken.objects.select_related("user")
            .filter(digest=hash_token(token.decode("ascii")))
            .first()
        )
        if record is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if record.expiry is not None and record.expiry <= timezone.now():
            raise exceptions.AuthenticationFailed("Token has expired.")
        return self.validate_user(record)


class TokenScheme(OpenApiAuthenticationExtension):
    """The schema's description of TokenAuthentication: ``Authorization: Token <token>``."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )
