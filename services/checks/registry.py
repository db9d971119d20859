"""The one registry of named checks that readiness checklists and maturity scorecards judge
services by.

A check is a pure function of a service's facts (ServiceFacts, gathered for many services at
once by services.selectors.checks) answering met or not met, with a one-line reason and a link
to where it is fixed. Adding a check is one function with one ``@register_check`` line.

Checks that need another app's data get it without services importing that app: the app
registers a fact provider (``register_fact_provider``: a bulk read for many services, whose
value per service lands in ``facts.extra[name]``) and its checks, from its AppConfig.ready()
(incidents/readiness_checks.py).
"""

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    reason: str
    fix_url: str = ""

    def as_json(self) -> list:
        return [self.passed, self.reason, self.fix_url]

    @classmethod
    def from_json(cls, value: Sequence) -> "CheckResult":
        passed, reason, fix_url = value
        return cls(bool(passed), reason, fix_url)


@dataclass(frozen=True)
class SLOFacts:
    """What the checks read of one SLO: its definition and its latest status snapshot."""

    name: str
    sli_kind: str
    has_policy: bool
    computed: bool = False
    stale: bool = False
    coverage: float | None = None
    remaining: float | None = None
    alert: str = "none"


@dataclass(frozen=True)
class ReadinessFacts:
    """The service's current readiness approval, if any."""

    approved: bool = False
    expires_at: datetime | None = None
    waivers_expire_on: object = None  # a date

    def valid_at(self, now: datetime, today) -> bool:
        return (
            self.approved
            and self.expires_at is not None
            and self.expires_at > now
            and (self.waivers_expire_on is None or self.waivers_expire_on >= today)
        )


@dataclass(frozen=True)
class ServiceFacts:
    """Everything the checks read of one service, read for many services in a few queries."""

    service_id: int
    slug: str
    name: str
    tier: int
    lifecycle: str
    description: str
    team_slug: str
    team_name: str
    team_has_manager: bool
    repository_url: str
    runbook_url: str
    dashboard_url: str
    oncall_url: str
    pagerduty_service_id: str
    handles_personal_data: bool
    data_retention_days: int | None
    dependency_count: int
    now: datetime
    today: object  # the date in the portal's time zone
    slos: tuple[SLOFacts, ...] = ()
    readiness: ReadinessFacts = ReadinessFacts()
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    function: Callable[[ServiceFacts], CheckResult]


@dataclass(frozen=True)
class FactProvider:
    name: str
    gather: Callable[[Sequence[int], datetime], Mapping[int, object]]
    default: Callable[[], object]


_CHECKS: dict[str, Check] = {}
_PROVIDERS: dict[str, FactProvider] = {}


def register_check(name: str, title: str):
    """Decorator: register the function as the check ``name``."""

    def register(function: Callable[[ServiceFacts], CheckResult]):
        if name in _CHECKS and _CHECKS[name].function is not function:
            raise ValueError(f"A check named “{name}” is already registered.")
        _CHECKS[name] = Check(name=name, title=title, function=function)
        return function

    return register


def register_fact_provider(
    name: str,
    gather: Callable[[Sequence[int], datetime], Mapping[int, object]],
    default: Callable[[], object],
) -> None:
    """``gather(service_ids, now)`` reads the facts of many services at once (a fixed number of
    queries); services it leaves out get ``default()``."""
    _PROVIDERS[name] = FactProvider(name=name, gather=gather, default=default)


def fact_providers() -> list[FactProvider]:
    return list(_PROVIDERS.values())


def check_names() -> list[str]:
    return sorted(_CHECKS)


def get_check(name: str) -> Check | None:
    return _CHECKS.get(name)


def all_checks() -> list[Check]:
    return [_CHECKS[name] for name in sorted(_CHECKS)]


def run_check(check: Check, facts: ServiceFacts) -> CheckResult:
    """The check's answer; a check that fails to run says so as "not met", so that one broken
    check or odd record never stops the others (the error is logged)."""
    try:
        return check.function(facts)
    except Exception:
        logger.exception("Check %s failed on service %s", check.name, facts.slug)
        return CheckResult(False, "The check could not run; the error is in the portal's log.")


def run_checks(facts: ServiceFacts, names: Iterable[str] | None = None) -> dict[str, CheckResult]:
    checks = all_checks() if names is None else [_CHECKS[name] for name in names]
    return {check.name: run_check(check, facts) for check in checks}
