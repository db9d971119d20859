"""The portal's own personal-data providers (see portal.privacy.registry): sign-in records
(django-axes), the log of emails sent, and API tokens."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db.models import TextField
from django.db.models.functions import Cast
from knox.models import AuthToken

from portal.models import SentEmail
from portal.privacy.registry import PersonalDataProvider, register
from portal.privacy.walk import json_ready

SIGN_IN_FIELDS = ("attempt_time", "ip_address", "user_agent", "path_info")


def _sign_ins(person) -> list[dict]:
    username = person.get_username()
    records = []
    for model, outcome in (
        (AccessLog, "signed in"),
        (AccessFailureLog, "failed"),
        (AccessAttempt, "failures being counted"),
    ):
        extra = ("logout_time",) if model is AccessLog else ()
        extra += ("failures_since_start",) if model is AccessAttempt else ()
        extra += ("locked_out",) if model is AccessFailureLog else ()
        for values in model.objects.filter(username=username).values(*SIGN_IN_FIELDS, *extra):
            records.append(
                {"outcome": outcome, **{key: json_ready(value) for key, value in values.items()}}
            )
    return sorted(records, key=lambda record: record["attempt_time"] or "", reverse=True)


def _erase_sign_ins(person, replacement) -> int:
    username = person.get_username()
    return sum(
        model.objects.filter(username=username).delete()[0]
        for model in (AccessLog, AccessFailureLog, AccessAttempt)
    )


def _emails(person) -> list[dict]:
    if not person.email:
        return []
    address = person.email.lower()
    candidates = (
        SentEmail.objects.annotate(_to=Cast("recipients", TextField()))
        .filter(_to__icontains=address)
        .order_by("-sent_at")
    )
    return [
        {"sent_at": json_ready(email.sent_at), "kind": email.name, "subject": email.subject}
        for email in candidates
        if address in (recipient.lower() for recipient in email.recipients)
    ]


def _tokens(person) -> list[dict]:
    return [
        {
            "prefix": f"{token.token_key}…",
            "created": json_ready(token.created),
            "expiry": json_ready(token.expiry),
        }
        for token in AuthToken.objects.filter(user=person).order_by("created")
    ]


def _erase_tokens(person, replacement) -> int:
    return AuthToken.objects.filter(user=person).delete()[0]


def register_portal_providers() -> None:
    register(
        PersonalDataProvider(
            name="sign-in history",
            export=_sign_ins,
            erase=_erase_sign_ins,
            models=(AccessLog, AccessFailureLog, AccessAttempt),
        )
    )
    register(PersonalDataProvider(name="emails sent to you", export=_emails, models=(SentEmail,)))
    register(
        PersonalDataProvider(
            name="API tokens", export=_tokens, erase=_erase_tokens, models=(AuthToken,)
        )
    )
