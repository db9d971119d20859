"""Loading readiness checklists and maturity scorecards from their YAML files as new versions.

Every file is parsed and checked before anything is written, and all are written in one
transaction: a bad file stops the load with nothing written. A file whose content equals the
newest version of its key changes nothing. The writers take the models as parameters so that
the data migration shipping the defaults can run them with its historical models."""

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from services.backstage.sources import Source
from services.checks.registry import all_checks, check_names
from services.models.readiness import ChecklistCategory, ChecklistCriterion, ReadinessChecklist
from services.models.scorecards import Scorecard, ScorecardLevel, ScorecardRule
from services.standards import (
    ChecklistDocument,
    ScorecardDocument,
    parse_checklist,
    parse_scorecard,
)

#: The files the portal ships; data migrations load them, so every installation starts with
#: them. A changed default is a new file and a new migration: a loaded version never changes.
DEFAULTS_DIR = Path(__file__).resolve().parent.parent / "defaults"


@dataclass(frozen=True)
class Loaded:
    """One file's outcome: the version it is now, and whether the load created it."""

    source: str
    key: str
    version: int
    created: bool

    def summary(self) -> str:
        if self.created:
            return f"{self.source}: {self.key} version {self.version} loaded"
        return f"{self.source}: {self.key} unchanged (version {self.version})"


def checklist_version_write(
    document: ChecklistDocument,
    *,
    source_name: str,
    by=None,
    checklist_model=ReadinessChecklist,
    category_model=ChecklistCategory,
    criterion_model=ChecklistCriterion,
):
    """The checklist's newest version, written as the next one when its content changed."""
    latest = checklist_model.objects.filter(key=document.key).order_by("-version").first()
    if latest is not None and latest.content_hash == document.content_hash:
        return latest, False
    checklist = checklist_model.objects.create(
        key=document.key,
        version=latest.version + 1 if latest else 1,
        title=document.title,
        description=document.description,
        content_hash=document.content_hash,
        source_name=source_name[:255],
        loaded_by=by,
    )
    for category_position, category in enumerate(document.categories, start=1):
        category_row = category_model.objects.create(
            checklist=checklist, key=category.key, title=category.title, position=category_position
        )
        criterion_model.objects.bulk_create(
            criterion_model(
                checklist=checklist,
                category=category_row,
                key=criterion.key,
                title=criterion.title,
                guidance=criterion.guidance,
                tiers=list(criterion.tiers),
                required=criterion.required,
                check_name=criterion.check,
                position=position,
            )
            for position, criterion in enumerate(category.criteria, start=1)
        )
    return checklist, True


def scorecard_version_write(
    document: ScorecardDocument,
    *,
    source_name: str,
    by=None,
    scorecard_model=Scorecard,
    level_model=ScorecardLevel,
    rule_model=ScorecardRule,
):
    """The scorecard's newest version, written as the next one when its content changed."""
    latest = scorecard_model.objects.filter(key=document.key).order_by("-version").first()
    if latest is not None and latest.content_hash == document.content_hash:
        return latest, False
    scorecard = scorecard_model.objects.create(
        key=document.key,
        version=latest.version + 1 if latest else 1,
        title=document.title,
        description=document.description,
        content_hash=document.content_hash,
        source_name=source_name[:255],
        loaded_by=by,
    )
    levels = {
        name: level_model.objects.create(scorecard=scorecard, name=name, rank=rank)
        for rank, name in enumerate(document.levels, start=1)
    }
    rule_model.objects.bulk_create(
        rule_model(
            scorecard=scorecard,
            level=levels[rule.level],
            check_name=rule.check,
            title=rule.title,
            weight=rule.weight,
            position=position,
        )
        for position, rule in enumerate(document.rules, start=1)
    )
    return scorecard, True


def checklist_documents(sources: list[Source]) -> list[tuple[Source, ChecklistDocument]]:
    known = set(check_names())
    return [
        (source, parse_checklist(source.name, source.text, known_checks=known))
        for source in sources
    ]


def scorecard_documents(sources: list[Source]) -> list[tuple[Source, ScorecardDocument]]:
    known = set(check_names())
    titles = {check.name: check.title for check in all_checks()}
    return [
        (source, parse_scorecard(source.name, source.text, known_checks=known, check_titles=titles))
        for source in sources
    ]


#: The files the data migration loads (services/migrations/0010).
DEFAULT_FILES = ("production-readiness-v1.yaml", "service-maturity-v1.yaml")


def default_sources(names=DEFAULT_FILES) -> tuple[Source, ...]:
    return tuple(Source(name, (DEFAULTS_DIR / name).read_text()) for name in names)


def load_defaults() -> None:
    """Load the shipped checklist and scorecard unless a version of each is there (for a
    database emptied after its migrations, as the test suite's flushes leave it)."""
    checklist, scorecard = default_sources()
    if not ReadinessChecklist.objects.exists():
        checklist_load(sources=[checklist])
    if not Scorecard.objects.exists():
        scorecard_load(sources=[scorecard])


@transaction.atomic
def checklist_load(*, sources: list[Source], by=None) -> list[Loaded]:
    """Load checklist files, all or nothing (services.standards.StandardError names the bad
    file, category and key)."""
    documents = checklist_documents(sources)
    loaded = []
    for source, document in documents:
        checklist, created = checklist_version_write(document, source_name=source.name, by=by)
        loaded.append(Loaded(source.name, checklist.key, checklist.version, created))
    return loaded


@transaction.atomic
def scorecard_load(*, sources: list[Source], by=None) -> list[Loaded]:
    """Load scorecard files, all or nothing; a new version has every service scored again."""
    from services.actions.scorecards import checks_mark_all_dirty

    documents = scorecard_documents(sources)
    loaded = []
    for source, document in documents:
        scorecard, created = scorecard_version_write(document, source_name=source.name, by=by)
        loaded.append(Loaded(source.name, scorecard.key, scorecard.version, created))
    if any(outcome.created for outcome in loaded):
        checks_mark_all_dirty()
    return loaded
