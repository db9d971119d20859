"""Parsing: the YAML documents of OpenSLO sources to plain SLO definitions, without the database.

The first problem stops parsing with an OpenSLOError naming the source, the document (1-based,
counting every document of the file) and the field.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

import yaml
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from portal import safe_yaml
from services.backstage.sources import Source
from services.choices import BudgetingMethod, QueryKind, SLIKind, WindowKind
from services.models.slos import WINDOW_PLACEHOLDER

API_VERSION = "openslo/v1"
SLI_KIND_ANNOTATION = "reliability-portal/sli-kind"
BUDGET_POLICY_ANNOTATION = "reliability-portal/budget-policy"
TIME_ZONE_ANNOTATION = "reliability-portal/time-zone"
# Kinds that define no SLO of their own, by their lower-case form.
READ_PAST_KINDS = {
    "service",
    "datasource",
    "alertpolicy",
    "alertcondition",
    "alertnotificationtarget",
}
BUDGETING_METHODS = {
    "Occurrences": BudgetingMethod.OCCURRENCES,
    "Timeslices": BudgetingMethod.TIMESLICES,
}
DURATION = re.compile(r"^([1-9][0-9]*)([smhdwMQY])$")
DURATION_UNITS = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
CALENDAR_MONTH = "1M"
START_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# OpenSLO requires a calendar window's startTime; the portal's months begin on the 1st.
EXPORTED_START_TIME = "2000-01-01 00:00:00"
DEFAULT_TIME_ZONE = "UTC"


class OpenSLOError(Exception):
    """A source that cannot be imported; the message names the source, document and field."""


class OpenSLOPermissionError(OpenSLOError):
    """The importing user may not edit the SLOs of a service the source names."""


@dataclass(frozen=True)
class Origin:
    """Where a document was read, as messages name it."""

    source: str
    document: int
    kind: str = ""
    name: str = ""

    def __str__(self):
        entity = " ".join(part for part in (self.kind, self.name) if part)
        return f"{self.source}, document {self.document}" + (f" ({entity})" if entity else "")


class _Field:
    """A value of a document with the path that names it in messages; a missing key reads as
    a missing value, so that `document["spec"]["service"].text()` says which key is absent."""

    def __init__(self, value: object, path: str, origin: Origin):
        self.value = value
        self.path = path
        self.origin = origin

    def __getitem__(self, key: str | int) -> "_Field":
        if isinstance(key, int):
            path = f"{self.path}[{key}]"
            items = self.sequence()
            return _Field(items[key] if key < len(items) else None, path, self.origin)
        path = f"{self.path}.{key}" if self.path else key
        return _Field(self.mapping().get(key), path, self.origin)

    @property
    def present(self) -> bool:
        return self.value is not None and self.value != ""

    def error(self, problem: str) -> OpenSLOError:
        where = f"{self.path}: " if self.path else ""
        return OpenSLOError(f"{self.origin}: {where}{problem}")

    def required(self) -> "_Field":
        if not self.present:
            raise self.error("is required")
        return self

    def mapping(self) -> dict:
        if self.value is None:
            return {}
        if not isinstance(self.value, dict):
            raise self.error("must be a mapping")
        return self.value

    def sequence(self) -> list:
        if self.value is None:
            return []
        if not isinstance(self.value, list):
            raise self.error("must be a list")
        return self.value

    def text(self, default: str = "") -> str:
        if not self.present:
            return default
        if isinstance(self.value, bool) or not isinstance(self.value, str | int | float):
            raise self.error("must be a string")
        return str(self.value).strip()

    def number(self) -> Decimal:
        if isinstance(self.value, bool) or not isinstance(self.value, str | int | float):
            raise self.error("must be a number")
        try:
            number = Decimal(str(self.value).strip())
        except InvalidOperation as error:
            raise self.error(f"“{self.value}” is not a number") from error
        if not number.is_finite():
            raise self.error(f"“{self.value}” is not a number")
        return number

    def flag(self) -> bool | None:
        if self.value is not None and not isinstance(self.value, bool):
            raise self.error("must be true or false")
        return self.value

    def fixed_duration(self) -> timedelta | None:
        """An OpenSLO duration ("28d", "5m") as a timedelta; None for the calendar units
        (M, Q, Y), whose length varies."""
        match = DURATION.match(self.required().text())
        if not match:
            raise self.error(f"“{self.value}” is not a duration like 5m, 1h, 28d or 1M")
        if match[2] not in DURATION_UNITS:
            return None
        try:
            return int(match[1]) * DURATION_UNITS[match[2]]
        except OverflowError as error:
            raise self.error(f"“{self.value}” is far too long") from error


@dataclass(frozen=True)
class RatioMetric:
    """The queries of a ratio SLI, and where each was read (for messages)."""

    query_kind: str
    events_query: str
    total_query: str
    paths: dict[str, str]


@dataclass(frozen=True)
class SLODefinition:
    """One SLO as a document states it: model field values and where each was read."""

    origin: Origin
    service_slug: str
    budget_policy_slug: str  # empty: the default policy
    fields: dict[str, object]
    paths: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.service_slug, self.fields["slug"]

    def error(self, problem: str, field_name: str) -> OpenSLOError:
        return OpenSLOError(f"{self.origin}: {self.paths.get(field_name, field_name)}: {problem}")

    def model_error(self, error: ValidationError) -> OpenSLOError:
        """The model's validation messages, each under the document field it came from."""
        problems = []
        for field_name, messages in error.message_dict.items():
            where = "" if field_name == NON_FIELD_ERRORS else self.paths.get(field_name, field_name)
            problems.append(f"{where}: {' '.join(messages)}" if where else " ".join(messages))
        return OpenSLOError(f"{self.origin}: {'; '.join(problems)}")


def parse_sources(sources: Iterable[Source]) -> list[SLODefinition]:
    """The SLO definitions of every source, in order; SLI documents may be referenced from any
    source of the same import."""
    slo_documents: list[_Field] = []
    slis: dict[str, tuple[Origin, RatioMetric]] = {}
    for source in sources:
        for document in _documents(source):
            api_version = document["apiVersion"].required().text()
            kind = document["kind"].required().text()
            name = document["metadata"]["name"].text()
            document.origin = replace(document.origin, kind=kind, name=name)
            if api_version != API_VERSION:
                raise document["apiVersion"].error(f"“{api_version}” is not {API_VERSION}")
            if kind == "SLO":
                slo_documents.append(document)
            elif kind == "SLI":
                name = document["metadata"]["name"].required().text()
                if name in slis:
                    raise document["metadata"]["name"].error(
                        f"the SLI “{name}” is also defined by {slis[name][0]}"
                    )
                slis[name] = document.origin, _ratio_metric(document["spec"])
            elif kind.lower() not in READ_PAST_KINDS:
                raise document["kind"].error(f"“{kind}” is not an OpenSLO v1 kind")
    definitions: dict[tuple[str, str], SLODefinition] = {}
    for document in slo_documents:
        definition = _slo_definition(document, slis)
        if definition.key in definitions:
            raise definition.error(
                f"{definition.service_slug} already has this SLO from "
                f"{definitions[definition.key].origin}",
                "slug",
            )
        definitions[definition.key] = definition
    return list(definitions.values())


def _documents(source: Source) -> Iterator[_Field]:
    """The non-empty documents of a source with their 1-based position in it."""
    number = 1
    try:
        for data in safe_yaml.load_all(source.text):
            if data is not None:
                document = _Field(data, "", Origin(source.name, number))
                if not isinstance(data, dict):
                    raise document.error(f"expected a mapping, got a {type(data).__name__}")
                yield document
            number += 1
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise OpenSLOError(
            f"{source.name}, document {number}{line}: malformed YAML: {problem}"
        ) from error


def _slo_definition(document: _Field, slis: dict[str, tuple[Origin, RatioMetric]]) -> SLODefinition:
    metadata, spec = document["metadata"], document["spec"]
    spec.required()
    annotations = metadata["annotations"]
    slug = metadata["name"].required().text()
    fields: dict[str, object] = {
        "slug": slug,
        "name": metadata["displayName"].text(default=slug),
        "description": spec["description"].text(),
        "labels": _labels(metadata["labels"]),
        "sli_kind": annotations[SLI_KIND_ANNOTATION].text(default=SLIKind.AVAILABILITY),
    }
    paths = {
        "slug": metadata["name"].path,
        "name": metadata["displayName"].path,
        "description": spec["description"].path,
        "labels": metadata["labels"].path,
        "sli_kind": annotations[SLI_KIND_ANNOTATION].path,
        "service": spec["service"].path,
        "budget_policy": annotations[BUDGET_POLICY_ANNOTATION].path,
    }

    metric = _indicator(spec, slis)
    fields.update(
        query_kind=metric.query_kind,
        events_query=metric.events_query,
        total_query=metric.total_query,
    )
    paths.update(metric.paths)

    windows = spec["timeWindow"].required().sequence()
    if len(windows) != 1:
        raise spec["timeWindow"].error("must hold exactly one window")
    window_fields, window_paths = _time_window(spec["timeWindow"][0], annotations)
    fields.update(window_fields)
    paths.update(window_paths)

    method_field = spec["budgetingMethod"]
    method = BUDGETING_METHODS.get(method_field.required().text())
    if method is None:
        raise method_field.error(f"must be one of {', '.join(BUDGETING_METHODS)}")
    fields["budgeting_method"] = method
    paths["budgeting_method"] = method_field.path

    objectives = spec["objectives"].required().sequence()
    if len(objectives) != 1:
        raise spec["objectives"].error(
            "must hold exactly one objective: the portal keeps one per SLO, so give each "
            "further objective an SLO of its own"
        )
    objective_fields, objective_paths = _objective(spec["objectives"][0], method)
    fields.update(objective_fields)
    paths.update(objective_paths)

    return SLODefinition(
        origin=document.origin,
        service_slug=spec["service"].required().text(),
        budget_policy_slug=annotations[BUDGET_POLICY_ANNOTATION].text(),
        fields=fields,
        paths=paths,
    )


def _labels(labels: _Field) -> dict[str, str]:
    """Label values are strings; OpenSLO's lists of values are joined with commas."""
    values = {}
    for name, value in labels.mapping().items():
        label = _Field(value, f"{labels.path}.{name}", labels.origin)
        if isinstance(value, list):
            values[str(name)] = ",".join(label[index].text() for index in range(len(value)))
        else:
            values[str(name)] = label.text()
    return values


def _indicator(spec: _Field, slis: dict[str, tuple[Origin, RatioMetric]]) -> RatioMetric:
    inline, reference = spec["indicator"], spec["indicatorRef"]
    if inline.present == reference.present:
        raise spec.error("needs either indicator or indicatorRef")
    if inline.present:
        return _ratio_metric(inline["spec"].required())
    name = reference.text()
    if name not in slis:
        raise reference.error(f"no SLI named “{name}” in this import")
    origin, metric = slis[name]
    paths = {key: f"{reference.path} → {origin}: {path}" for key, path in metric.paths.items()}
    return replace(metric, paths=paths)


def _ratio_metric(spec: _Field) -> RatioMetric:
    ratio = spec["ratioMetric"]
    if not ratio.present:
        raise ratio.error("is required: the portal imports ratio SLIs (good or bad, and total)")
    good, bad = ratio["good"], ratio["bad"]
    if good.present == bad.present:
        raise ratio.error("needs either good or bad events, and total")
    events = good if good.present else bad
    events_query, total_query = _prometheus_query(events), _prometheus_query(ratio["total"])
    return RatioMetric(
        query_kind=QueryKind.GOOD_TOTAL if good.present else QueryKind.BAD_TOTAL,
        events_query=events_query.value,
        total_query=total_query.value,
        paths={"events_query": events_query.path, "total_query": total_query.path},
    )


def _prometheus_query(metric: _Field) -> _Field:
    """The query field of a metric, checked: a Prometheus query in Sloth's form."""
    source = metric.required()["metricSource"].required()
    source_type = source["type"].required().text()
    if source_type.lower() != "prometheus":
        raise source["type"].error(f"“{source_type}” is not Prometheus, the one source supported")
    query = source["spec"]["query"]
    text = query.required().text()
    if WINDOW_PLACEHOLDER not in text:
        raise query.error(f"must contain {WINDOW_PLACEHOLDER} where the range goes (Sloth's form)")
    return _Field(text, query.path, query.origin)


def _time_window(window: _Field, annotations: _Field) -> tuple[dict, dict]:
    duration, calendar = window["duration"], window["calendar"]
    is_rolling = window["isRolling"].flag()
    if is_rolling is None:
        is_rolling = not calendar.present
    if is_rolling:
        if calendar.present:
            raise calendar.error("only calendar windows (isRolling: false) have a calendar")
        length = duration.fixed_duration()
        if length is None or length % timedelta(days=1):
            raise duration.error("a rolling window is a whole number of days, like 28d or 4w")
        time_zone = annotations[TIME_ZONE_ANNOTATION]
        return (
            {
                "window_kind": WindowKind.ROLLING,
                "window_days": length.days,
                "time_zone": time_zone.text(default=DEFAULT_TIME_ZONE),
            },
            {"window_days": duration.path, "time_zone": time_zone.path},
        )
    if duration.required().text() != CALENDAR_MONTH:
        raise duration.error(f"a calendar window is one month: {CALENDAR_MONTH}")
    start_time = calendar.required()["startTime"]
    if not isinstance(start_time.value, datetime):
        try:
            datetime.strptime(start_time.required().text(), START_TIME_FORMAT)
        except ValueError as error:
            raise start_time.error(f"is not a time like {EXPORTED_START_TIME}") from error
    time_zone = calendar["timeZone"]
    return (
        {"window_kind": WindowKind.CALENDAR_MONTH, "time_zone": time_zone.required().text()},
        {"window_kind": window["isRolling"].path, "time_zone": time_zone.path},
    )


def _objective(objective: _Field, method: str) -> tuple[dict, dict]:
    target, percent = objective["target"], objective["targetPercent"]
    if target.present == percent.present:
        raise objective.error("needs either target or targetPercent")
    if target.present:
        value = _percent_of_fraction(target, upper_included=False)
    else:
        value = percent.number()
        if not 0 < value < 100:
            raise percent.error(f"must be between 0 and 100 (both excluded), got {value}")
    fields = {"objective": value.normalize()}
    paths = {"objective": (target if target.present else percent).path}

    slice_target, slice_window = objective["timeSliceTarget"], objective["timeSliceWindow"]
    paths.update(slice_target=slice_target.path, slice_minutes=slice_window.path)
    if method != BudgetingMethod.TIMESLICES:
        for slice_field in (slice_target, slice_window):
            if slice_field.present:
                raise slice_field.error("is only for budgetingMethod Timeslices")
        return {**fields, "slice_target": None, "slice_minutes": None}, paths
    fields["slice_target"] = _percent_of_fraction(slice_target.required(), upper_included=True)
    length = slice_window.fixed_duration()
    if length is None or length % timedelta(minutes=1):
        raise slice_window.error("a timeslice is a whole number of minutes, like 5m or 1h")
    fields["slice_minutes"] = length // timedelta(minutes=1)
    return fields, paths


def _percent_of_fraction(value: _Field, *, upper_included: bool) -> Decimal:
    """0.999 → 99.9, normalised: the model counts trailing zeros (99.999900) as digits."""
    number = value.number()
    if not 0 < number < 1 and not (upper_included and number == 1):
        upper = "1 included" if upper_included else "both excluded"
        raise value.error(f"must be a fraction between 0 and 1 ({upper}), got {number}")
    return (number * 100).normalize()
