"""Writing check definitions: from the UI, the API, the admin and YAML files alike."""

from datetime import datetime

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from portal import safe_yaml
from portal.compliance.actions.statuses import compliance_statuses_sync, first_due
from portal.compliance.choices import AppliesTo, CheckKind
from portal.compliance.models.checks import DEFAULT_FREQUENCY, ComplianceCheck
from portal.compliance.models.runs import ComplianceStatus
from portal.compliance.schedule import next_period_start
from services.models.catalog import Tag

#: The fields of a check that the UI, the API and YAML files may set.
CHECK_FIELDS = (
    "name",
    "slug",
    "kind",
    "description",
    "frequency",
    "applies_to",
    "tag",
    "severity",
    "method",
    "query",
    "comparison",
    "threshold",
    "http_url",
    "timeout_seconds",
    "enabled",
)


def _prepare(check: ComplianceCheck) -> None:
    if not check.slug:
        check.slug = slugify(check.name)[:100]
    if not check.frequency:
        check.frequency = DEFAULT_FREQUENCY.get(check.kind, "")
    if check.applies_to != AppliesTo.TAG:
        check.tag = None


def _reschedule(check: ComplianceCheck, now: datetime) -> None:
    """A check whose frequency or method changed is due by its new rhythm: after the current
    period when it last ran in it, at once (or at the period's end, for attestations) when not."""
    for status in ComplianceStatus.objects.filter(compliance_check=check):
        if status.checked_at is not None:
            status.due_at = next_period_start(check.frequency, status.checked_at)
        else:
            status.due_at = first_due(check.method, check.frequency, now)
        status.save(update_fields=["due_at"])


@transaction.atomic
def compliance_check_save(*, check: ComplianceCheck, by=None) -> ComplianceCheck:
    """Validate and save a new or changed check, then bring the statuses in step with it."""
    _prepare(check)
    previous = (
        ComplianceCheck.objects.filter(pk=check.pk).values("frequency", "method").first()
        if check.pk
        else None
    )
    check.full_clean()
    if by is not None:
        check._history_user = by
    check.save()
    now = timezone.now()
    if previous and (previous["frequency"], previous["method"]) != (check.frequency, check.method):
        _reschedule(check, now)
    compliance_statuses_sync(now=now)
    return check


def compliance_check_create(*, by=None, **fields) -> ComplianceCheck:
    return compliance_check_save(check=ComplianceCheck(**fields), by=by)


def compliance_check_update(*, check: ComplianceCheck, by=None, **fields) -> ComplianceCheck:
    for name, value in fields.items():
        setattr(check, name, value)
    return compliance_check_save(check=check, by=by)


@transaction.atomic
def compliance_check_delete(*, check: ComplianceCheck) -> None:
    """Delete a check with its results and findings (disable it to keep them)."""
    check.delete()


# --- YAML ---------------------------------------------------------------------------------------


class CheckFileError(ValueError):
    """A check file that cannot be loaded; ``errors`` name the document and the field."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _documents(text: str, source: str):
    try:
        documents = list(safe_yaml.load_all(text))
    except yaml.YAMLError as error:
        raise CheckFileError([f"{source}: not valid YAML: {error}"]) from error
    number = 0
    for document in documents:
        if document is None:
            continue
        for item in document if isinstance(document, list) else [document]:
            number += 1
            yield number, item


def _check_from(item, *, source: str, number: int) -> tuple[ComplianceCheck | None, list[str]]:
    label = f"{source}, document {number}"
    if not isinstance(item, dict):
        return None, [f"{label}: a check is a mapping of its fields (name, kind, method, …)."]
    name = item.get("name")
    if name:
        label += f" ({name})"
    unknown = sorted(set(item) - set(CHECK_FIELDS))
    if unknown:
        return None, [f"{label}: {field}: is not a field of a check." for field in unknown]
    values = {key: value for key, value in item.items() if key != "tag"}
    for key, value in values.items():
        if value is None:
            values[key] = ""
    values.setdefault("kind", CheckKind.CUSTOM)
    slug = values.get("slug") or slugify(str(name or ""))[:100]
    check = ComplianceCheck.objects.filter(slug=slug).first() if slug else None
    check = check or ComplianceCheck()
    for key in CHECK_FIELDS:
        if key in values:
            setattr(check, key, values[key])
    check.slug = slug
    if item.get("tag"):
        tag = (
            Tag.objects.filter(slug=str(item["tag"])).first()
            or Tag.objects.filter(name=str(item["tag"])).first()
        )
        if tag is None:
            return None, [f"{label}: tag: no tag “{item['tag']}” in the catalog."]
        check.tag = tag
    _prepare(check)
    try:
        check.full_clean(validate_unique=False)
    except ValidationError as error:
        return None, [
            f"{label}: {field}: {message}"
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return check, []


@transaction.atomic
def compliance_checks_load(
    *, text: str, source: str, by=None
) -> list[tuple[ComplianceCheck, bool]]:
    """Create or update (by slug) every check of a YAML file: one check per document, or a
    list of them. All or nothing: any error, and nothing is written; CheckFileError lists them
    all, each naming the file, the document and the field. Returns (check, created) pairs."""
    errors: list[str] = []
    loaded: list[tuple[ComplianceCheck, bool]] = []
    seen: dict[str, int] = {}
    for number, item in _documents(text, source):
        check, problems = _check_from(item, source=source, number=number)
        errors.extend(problems)
        if check is None:
            continue
        if check.slug in seen:
            errors.append(
                f"{source}, document {number}: slug: “{check.slug}” is also document "
                f"{seen[check.slug]}."
            )
            continue
        seen[check.slug] = number
        loaded.append((check, check.pk is None))
    if not loaded and not errors:
        errors.append(f"{source}: no check in the file.")
    if errors:
        raise CheckFileError(errors)
    saved = []
    for check, created in loaded:
        try:
            saved.append((compliance_check_save(check=check, by=by), created))
        except ValidationError as error:
            # Uniqueness against other checks (a name taken by a check of another slug).
            raise CheckFileError(
                [
                    f"{source}, document {seen[check.slug]} ({check.name}): {field}: {message}"
                    for field, messages in error.message_dict.items()
                    for message in messages
                ]
            ) from error
    return saved
