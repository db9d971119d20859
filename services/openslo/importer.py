"""Importing: SLO definitions to SLOs, through services.actions, all or nothing."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.roles import can_edit_team_records
from services.actions.slos import slo_create, slo_update
from services.backstage.sources import Source
from services.models.catalog import Service
from services.models.slos import SLO, BudgetPolicy
from services.openslo.documents import (
    OpenSLOError,
    OpenSLOPermissionError,
    SLODefinition,
    parse_sources,
)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        lines = [
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        ]
        for verb, names in (("created", self.created), ("updated", self.updated)):
            lines += [f"{verb} {name}" for name in names]
        return lines

    def as_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def import_sources(sources: Iterable[Source], *, user=None) -> ImportReport:
    definitions = parse_sources(sources)
    if not definitions:
        # An empty document ("---", "null") is a mistake, not a successful import of nothing.
        raise OpenSLOError("no OpenSLO document in the sources")
    return import_definitions(definitions, user=user)


@transaction.atomic
def import_definitions(definitions: list[SLODefinition], *, user=None) -> ImportReport:
    """Create or update the SLOs, all or nothing. With a `user`, every service named must be
    one whose records the user may edit (OpenSLOPermissionError otherwise)."""
    services = Service.objects.in_bulk(
        {definition.service_slug for definition in definitions}, field_name="slug"
    )
    policies = BudgetPolicy.objects.in_bulk(
        {definition.budget_policy_slug for definition in definitions} - {""}, field_name="slug"
    )
    for definition in definitions:
        service = services.get(definition.service_slug)
        if service is None:
            raise definition.error(
                f"no service “{definition.service_slug}” in the catalog", "service"
            )
        if user is not None and not can_edit_team_records(user, service.owner_team_id):
            raise OpenSLOPermissionError(
                f"{definition.origin}: {definition.paths['service']}: you cannot edit the SLOs "
                f"of {service.slug}"
            )
        if definition.budget_policy_slug not in policies and definition.budget_policy_slug:
            raise definition.error(
                f"no budget policy “{definition.budget_policy_slug}”", "budget_policy"
            )
    existing = {
        (slo.service.slug, slo.slug): slo
        for slo in SLO.objects.select_related("service").filter(
            service__in=list(services.values()),
            slug__in={definition.fields["slug"] for definition in definitions},
        )
    }
    report = ImportReport()
    for definition in definitions:
        policy = policies.get(definition.budget_policy_slug)
        slo = existing.get(definition.key)
        name = "/".join(definition.key)
        try:
            if slo is None:
                slo_create(
                    service=services[definition.service_slug],
                    budget_policy=policy,
                    **definition.fields,
                )
                report.created.append(name)
            elif slo.budget_policy_id == getattr(policy, "pk", None) and all(
                getattr(slo, key) == value for key, value in definition.fields.items()
            ):
                report.unchanged.append(name)
            else:
                slo_update(slo=slo, budget_policy=policy, **definition.fields)
                report.updated.append(name)
        except ValidationError as error:
            raise definition.model_error(error) from error
    return report
