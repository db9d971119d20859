"""The checks over what the services app itself knows: ownership, links, dependencies,
personal data, SLOs and their snapshots, and the readiness review. Pure functions of
ServiceFacts (services.checks.registry)."""

from functools import cache

from django.urls import reverse

from services.checks.registry import CheckResult, ServiceFacts, register_check
from services.choices import AlertState, SLIKind

#: Share of an SLO's window with data below which its figures cannot be trusted.
MIN_COVERAGE = 0.9
_SLUG = "service-slug-placeholder"


@cache
def _url_pattern(name: str) -> str:
    # Resolving a URL costs more than the check itself; a recompute builds thousands of them.
    return reverse(name, args=[_SLUG])


def service_url(name: str, slug: str) -> str:
    """reverse(name, args=[slug]) for the service pages the checks link to."""
    return _url_pattern(name).replace(_SLUG, slug)


def _edit(facts: ServiceFacts) -> str:
    return service_url("service_edit", facts.slug)


def _service(facts: ServiceFacts) -> str:
    return service_url("service_detail", facts.slug)


def _add_slo(facts: ServiceFacts) -> str:
    return service_url("slo_add", facts.slug)


def _link_check(facts: ServiceFacts, url: str, what: str) -> CheckResult:
    if url:
        return CheckResult(True, f"The {what} link is set.")
    return CheckResult(False, f"No {what} link.", _edit(facts))


@register_check("owner_team_has_manager", "Owner team set, with a manager")
def owner_team_has_manager(facts: ServiceFacts) -> CheckResult:
    if facts.team_has_manager:
        return CheckResult(True, f"Owned by {facts.team_name}, which names its manager.")
    return CheckResult(
        False,
        f"The owner team {facts.team_name} names no manager.",
        reverse("team_edit", args=[facts.team_slug]),
    )


@register_check("description_present", "Described in the catalog")
def description_present(facts: ServiceFacts) -> CheckResult:
    if facts.description.strip():
        return CheckResult(True, "The catalog says what the service does.")
    return CheckResult(False, "No description in the catalog.", _edit(facts))


@register_check("repository_link", "Repository link")
def repository_link(facts: ServiceFacts) -> CheckResult:
    return _link_check(facts, facts.repository_url, "repository")


@register_check("runbook_link", "Runbook link")
def runbook_link(facts: ServiceFacts) -> CheckResult:
    return _link_check(facts, facts.runbook_url, "runbook")


@register_check("dashboard_link", "Dashboard link")
def dashboard_link(facts: ServiceFacts) -> CheckResult:
    return _link_check(facts, facts.dashboard_url, "dashboard")


@register_check("oncall_link", "On-call link")
def oncall_link(facts: ServiceFacts) -> CheckResult:
    return _link_check(facts, facts.oncall_url, "on-call")


@register_check("pagerduty_service", "Paging integration")
def pagerduty_service(facts: ServiceFacts) -> CheckResult:
    if facts.pagerduty_service_id.strip():
        return CheckResult(True, "Pages reach the on-call engineer through PagerDuty.")
    return CheckResult(False, "No PagerDuty service is named for paging.", _edit(facts))


@register_check("dependencies_declared", "Dependencies declared")
def dependencies_declared(facts: ServiceFacts) -> CheckResult:
    count = facts.dependency_count
    if count:
        return CheckResult(True, f"{count} dependenc{'y' if count == 1 else 'ies'} declared.")
    return CheckResult(False, "No dependency on another service is declared.", _edit(facts))


@register_check("personal_data_retention", "Retention set for personal data")
def personal_data_retention(facts: ServiceFacts) -> CheckResult:
    if not facts.handles_personal_data:
        return CheckResult(True, "Handles no personal data.")
    if facts.data_retention_days:
        return CheckResult(True, f"Personal data is kept {facts.data_retention_days} days.")
    return CheckResult(False, "Handles personal data with no retention period.", _edit(facts))


@register_check("slo_defined", "At least one SLO")
def slo_defined(facts: ServiceFacts) -> CheckResult:
    count = len(facts.slos)
    if count:
        return CheckResult(True, f"{count} SLO{'' if count == 1 else 's'} defined.")
    return CheckResult(False, "No SLO is defined.", _add_slo(facts))


def _slo_kind_check(facts: ServiceFacts, kind: str, what: str) -> CheckResult:
    if any(slo.sli_kind == kind for slo in facts.slos):
        return CheckResult(True, f"{what.capitalize()} has an SLO.")
    return CheckResult(False, f"No {what} SLO.", _add_slo(facts))


@register_check("availability_slo", "An availability SLO")
def availability_slo(facts: ServiceFacts) -> CheckResult:
    return _slo_kind_check(facts, SLIKind.AVAILABILITY, "availability")


@register_check("latency_slo", "A latency SLO")
def latency_slo(facts: ServiceFacts) -> CheckResult:
    return _slo_kind_check(facts, SLIKind.LATENCY, "latency")


@register_check("slo_data_fresh", "Fresh SLI data, coverage at least 90 %")
def slo_data_fresh(facts: ServiceFacts) -> CheckResult:
    if not facts.slos:
        return CheckResult(False, "No SLO, so no SLI data to judge.", _add_slo(facts))
    lacking = []
    for slo in facts.slos:
        if not slo.computed:
            lacking.append(f"{slo.name} (not computed yet)")
        elif slo.stale:
            lacking.append(f"{slo.name} (stale)")
        elif slo.coverage is None or slo.coverage < MIN_COVERAGE:
            coverage = 0 if slo.coverage is None else slo.coverage
            lacking.append(f"{slo.name} ({coverage:.0%} coverage)")
    if lacking:
        return CheckResult(False, f"Data lacking: {', '.join(lacking)}.", _service(facts))
    return CheckResult(True, "Every SLO has fresh data with coverage of at least 90 %.")


@register_check("budget_policy_applies", "An error-budget policy applies")
def budget_policy_applies(facts: ServiceFacts) -> CheckResult:
    if not facts.slos:
        return CheckResult(False, "No SLO, so no budget for a policy to govern.", _add_slo(facts))
    without = [slo.name for slo in facts.slos if not slo.has_policy]
    if without:
        return CheckResult(
            False,
            f"No budget policy (and no default policy) for: {', '.join(without)}.",
            reverse("admin:services_budgetpolicy_changelist"),
        )
    return CheckResult(True, "Every SLO follows a budget policy.")


@register_check("error_budget_left", "No error budget overspent")
def error_budget_left(facts: ServiceFacts) -> CheckResult:
    if not facts.slos:
        return CheckResult(False, "No SLO, so no error budget.", _add_slo(facts))
    overspent = [slo.name for slo in facts.slos if slo.remaining is not None and slo.remaining < 0]
    if overspent:
        return CheckResult(False, f"Budget overspent: {', '.join(overspent)}.", _service(facts))
    return CheckResult(True, "No SLO has overspent its error budget.")


@register_check("slo_not_paging", "No SLO paging")
def slo_not_paging(facts: ServiceFacts) -> CheckResult:
    paging = [slo.name for slo in facts.slos if slo.alert == AlertState.PAGE]
    if paging:
        return CheckResult(
            False, f"Burning fast enough to page: {', '.join(paging)}.", _service(facts)
        )
    return CheckResult(True, "No SLO is burning its budget fast enough to page.")


@register_check("readiness_review_valid", "An approved, unexpired readiness review")
def readiness_review_valid(facts: ServiceFacts) -> CheckResult:
    readiness = facts.readiness
    if readiness.valid_at(facts.now, facts.today):
        return CheckResult(True, f"Approved until {readiness.expires_at:%d %b %Y}.")
    fix = service_url("readiness_service", facts.slug)
    if not readiness.approved:
        return CheckResult(False, "No approved readiness review.", fix)
    if readiness.expires_at is not None and readiness.expires_at <= facts.now:
        return CheckResult(False, f"The approval expired on {readiness.expires_at:%d %b %Y}.", fix)
    return CheckResult(False, "A waiver of the approval has expired.", fix)


@register_check("no_expired_waivers", "No expired readiness waiver")
def no_expired_waivers(facts: ServiceFacts) -> CheckResult:
    expiry = facts.readiness.waivers_expire_on
    if facts.readiness.approved and expiry is not None and expiry < facts.today:
        return CheckResult(
            False,
            f"A waiver expired on {expiry:%d %b %Y}.",
            service_url("readiness_service", facts.slug),
        )
    return CheckResult(True, "No waiver of the current approval has expired.")
