"""Prometheus recording and alerting rules for SLOs, in the shape Sloth generates them.

Pure functions from SLO rows to one rules document (`groups:`) that `promtool check rules`
accepts. Each SLO gets one rule group, evaluated in order, so that its alerts always read the
recordings of the same evaluation:

- the SLI error ratio over each look-back window of services.budget (5m … 3d), recorded as
  `slo:sli_error:ratio_rate<window>` from the SLO's Sloth-form queries with `{{.window}}`
  replaced by the window: `(bad) / (total)`, or `1 - ((good) / (total))`;
- the error ratio over the whole SLO window, `slo:sli_error:ratio_rate<N>d`, as the mean of the
  5-minute ratios over the window (Sloth's choice: a rate over 30 days on every evaluation
  would be far too expensive); a 1-day or 3-day SLO reads the look-back window's ratio;
- metadata: `slo:objective:ratio`, `slo:error_budget:ratio` (1 - objective) and
  `slo:time_period:days`;
- burn rates `slo:burn_rate:ratio_rate<window>` (error ratio ÷ error budget) for every
  look-back window, the whole window's `slo:period_burn_rate:ratio` and
  `slo:period_error_budget_remaining:ratio` (1 - period burn rate, negative once overspent);
- the alert `ErrorBudgetBurn` twice, `severity: page` and `severity: ticket`, each firing when
  both windows of one of services.budget's BURN_RATE_RULES burn faster than the rule's
  threshold for this SLO's window (14.4 / 6 / 3 / 1 for 30 days, scaled for other lengths).

Every series carries the labels `service` (catalog slug) and `slo` (SLO slug), which the
portal's Alertmanager intake reads back, and the SLO's own labels. Burn rates are measured on
events for both budgeting methods, as services.budget measures them. Prometheus cannot follow
calendar months, so a calendar-month SLO is treated as a rolling 30 days, as Sloth does.
"""

import re
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

import yaml

from services.budget.figures import BURN_RATE_RULES, PAGE, TICKET, BurnRateRule
from services.budget.windows import LOOKBACK_WINDOWS
from services.choices import QueryKind, WindowKind
from services.models.slos import query_over

CALENDAR_MONTH_DAYS = 30
ALERT_NAME = "ErrorBudgetBurn"
SERVICE_LABEL = "service"
SLO_LABEL = "slo"
SEVERITY_LABEL = "severity"
# Prometheus's label name syntax; names starting with "__" are reserved for Prometheus itself.
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

OBJECTIVE_METRIC = "slo:objective:ratio"
ERROR_BUDGET_METRIC = "slo:error_budget:ratio"
TIME_PERIOD_METRIC = "slo:time_period:days"
PERIOD_BURN_RATE_METRIC = "slo:period_burn_rate:ratio"
BUDGET_REMAINING_METRIC = "slo:period_error_budget_remaining:ratio"

ACTIONS = {
    PAGE: "Page the on-call: at this rate the budget is gone within days.",
    TICKET: "Open a ticket: the budget is burning faster than the window can sustain.",
}


def error_ratio_metric(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"


def burn_rate_metric(window: str) -> str:
    return f"slo:burn_rate:ratio_rate{window}"


def period_days(slo) -> int:
    """The SLO window in days as the rules see it (see the module's note on calendar months)."""
    return CALENDAR_MONTH_DAYS if slo.window_kind == WindowKind.CALENDAR_MONTH else slo.window_days


def error_budget(slo) -> Decimal:
    """The share of events allowed to be bad, exactly: 99.9 % → 0.001."""
    return ((Decimal(100) - slo.objective) / 100).normalize()


def error_ratio_query(slo, window: str) -> str:
    """The SLO's error ratio over `window` in PromQL, from its Sloth-form queries."""
    events = query_over(slo.events_query, window)
    total = query_over(slo.total_query, window)
    if slo.query_kind == QueryKind.BAD_TOTAL:
        return f"({events})\n/\n({total})"
    return f"1 - (\n  ({events})\n  /\n  ({total})\n)"


def series_labels(slo) -> dict[str, str]:
    """The SLO's own labels (those Prometheus accepts), then the two that identify it."""
    labels = {
        str(name): str(value)
        for name, value in (slo.labels or {}).items()
        if LABEL_NAME.match(str(name)) and not str(name).startswith("__")
    }
    labels.update(_identity(slo))
    return labels


def _identity(slo) -> dict[str, str]:
    return {SERVICE_LABEL: slo.service.slug, SLO_LABEL: slo.slug}


def _selector(slo) -> str:
    return f'{{{SERVICE_LABEL}="{slo.service.slug}", {SLO_LABEL}="{slo.slug}"}}'


def _number(value: Decimal | float) -> str:
    return format(value, "f") if isinstance(value, Decimal) else repr(value)


def alert_expression(slo, severity: str) -> str:
    """Either rule of `severity` firing: both of its windows above its threshold."""
    slo_window = timedelta(days=period_days(slo))
    selector = _selector(slo)
    conditions = []
    for rule in _rules_of(severity):
        threshold = _number(rule.threshold(slo_window))
        conditions.append(
            f"(\n  {burn_rate_metric(rule.long_window)}{selector} > {threshold}\n  and\n"
            f"  {burn_rate_metric(rule.short_window)}{selector} > {threshold}\n)"
        )
    return "\nor\n".join(conditions)


def _rules_of(severity: str) -> list[BurnRateRule]:
    return [rule for rule in BURN_RATE_RULES if rule.severity == severity]


def _alert_description(slo, severity: str) -> str:
    slo_window = timedelta(days=period_days(slo))
    conditions = " or ".join(
        f"more than {float(rule.budget_share * 100):g} % of its error budget in the last "
        f"{rule.long_window} (burn rate above {rule.threshold(slo_window):.4g} over "
        f"{rule.long_window} and {rule.short_window})"
        for rule in _rules_of(severity)
    )
    return (
        f"{slo.name} ({_number(slo.objective.normalize())} % over {period_days(slo)} days) "
        f"has spent {conditions}. {ACTIONS[severity]}"
    )


def alerting_rule(slo, severity: str, *, portal_base_url: str = "") -> dict:
    annotations = {
        "summary": f"{slo.service.name}: {slo.name} is burning its error budget too fast",
        "description": _alert_description(slo, severity),
    }
    if portal_base_url:
        annotations["slo_url"] = portal_base_url.rstrip("/") + slo.get_absolute_url()
    if slo.service.runbook_url:
        annotations["runbook_url"] = slo.service.runbook_url
    return {
        "alert": ALERT_NAME,
        "expr": alert_expression(slo, severity),
        # The series carry service and slo already; stating them on the rule keeps the rules
        # of different SLOs apart for promtool's duplicate check and for readers.
        "labels": {SEVERITY_LABEL: severity, **_identity(slo)},
        "annotations": annotations,
    }


def slo_rule_group(slo, *, portal_base_url: str = "") -> dict:
    """One SLO's rules, in evaluation order: SLI ratios, metadata, burn rates, alerts."""
    labels = series_labels(slo)
    selector = _selector(slo)
    budget = _number(error_budget(slo))
    period = f"{period_days(slo)}d"

    def record(metric: str, expression: str) -> dict:
        return {"record": metric, "expr": expression, "labels": labels}

    fastest = error_ratio_metric(next(iter(LOOKBACK_WINDOWS)))
    rules = [
        record(error_ratio_metric(window), error_ratio_query(slo, window))
        for window in LOOKBACK_WINDOWS
    ]
    if period not in LOOKBACK_WINDOWS:  # a 1-day or 3-day SLO has its ratio recorded already
        rules.append(
            record(
                error_ratio_metric(period),
                f"sum_over_time({fastest}{selector}[{period}])\n"
                f"/\ncount_over_time({fastest}{selector}[{period}])",
            )
        )
    rules += [
        record(OBJECTIVE_METRIC, f"vector({_number((slo.objective / 100).normalize())})"),
        record(ERROR_BUDGET_METRIC, f"vector({budget})"),
        record(TIME_PERIOD_METRIC, f"vector({period_days(slo)})"),
    ]
    rules += [
        record(burn_rate_metric(window), f"{error_ratio_metric(window)}{selector} / {budget}")
        for window in LOOKBACK_WINDOWS
    ]
    rules += [
        record(PERIOD_BURN_RATE_METRIC, f"{error_ratio_metric(period)}{selector} / {budget}"),
        record(BUDGET_REMAINING_METRIC, f"1 - {PERIOD_BURN_RATE_METRIC}{selector}"),
        alerting_rule(slo, PAGE, portal_base_url=portal_base_url),
        alerting_rule(slo, TICKET, portal_base_url=portal_base_url),
    ]
    return {"name": f"slo:{slo.service.slug}:{slo.slug}", "rules": rules}


def rules_document(slos: Iterable, *, portal_base_url: str = "") -> dict:
    return {"groups": [slo_rule_group(slo, portal_base_url=portal_base_url) for slo in slos]}


class _RulesDumper(yaml.SafeDumper):
    """Writes multi-line expressions as literal blocks, the way people write rule files, and
    repeats shared label sets instead of writing YAML anchors few readers expect."""

    def ignore_aliases(self, data):
        return True


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_RulesDumper.add_representer(str, _represent_text)


def rules_yaml(slos: Iterable, *, portal_base_url: str = "") -> str:
    """The rules file for `slos`: `groups: []` when there are none, which Prometheus accepts."""
    return yaml.dump(
        rules_document(slos, portal_base_url=portal_base_url),
        Dumper=_RulesDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
