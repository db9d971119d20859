"""Toil spreadsheets: reading the CSV a team kept its toil inventory in, and writing the
inventory back out in the same shape. Pure functions of text; writing to the database is
toil.actions.toil.toil_import's.

The shape is the usual toil table: a header row with ``Task, Frequency, Time (min), Monthly
Toil, Automation Priority``; frequency like ``50/month`` or ``3/week``; priority High, Medium
or Low (automation potential 5, 3, 1). An ``Automation potential`` column (1 to 5) wins over
the priority where both are given; ``Category`` and ``Description`` columns are read when
present. ``Monthly Toil`` is derived, so it is written out but not read.
"""

import csv
import io
from dataclasses import dataclass

from toil import roi
from toil.choices.toil import ToilCategory
from toil.models.inventory import MAX_MINUTES_EACH

MAX_ROWS = 5000
MAX_BYTES = 1_000_000

TASK, FREQUENCY, MINUTES, MONTHLY, PRIORITY = (
    "Task",
    "Frequency",
    "Time (min)",
    "Monthly Toil",
    "Automation Priority",
)
POTENTIAL, CATEGORY, DESCRIPTION = "Automation potential", "Category", "Description"
EXPORT_COLUMNS = [
    TASK,
    FREQUENCY,
    MINUTES,
    MONTHLY,
    PRIORITY,
    POTENTIAL,
    CATEGORY,
    DESCRIPTION,
    "Team",
    "Status",
]


class SpreadsheetError(ValueError):
    """What is wrong with the file, naming the row and the column."""


@dataclass(frozen=True)
class SpreadsheetRow:
    row: int  # as a spreadsheet numbers it: the header is row 1
    task: str
    frequency: int
    frequency_unit: str
    minutes_each: int
    automation_potential: int
    category: str | None
    description: str | None


def _normalised(name: str) -> str:
    return " ".join((name or "").replace("\ufeff", "").split()).lower()


_CATEGORIES = {
    **{_normalised(value): value for value in ToilCategory.values},
    **{_normalised(label): value for value, label in ToilCategory.choices},
}


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise SpreadsheetError(f"The file is over {MAX_BYTES // 1_000_000} MB; split it up.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError("The file is not UTF-8 text: save it as CSV (UTF-8).") from None


def _whole_number(text: str, *, low: int, high: int, what: str) -> int:
    try:
        number = float(text.strip())
    except ValueError:
        raise ValueError(f"“{text}” is not a number of {what}.") from None
    if number != int(number):
        raise ValueError(f"“{text}” is not a whole number of {what}.")
    if not low <= number <= high:
        raise ValueError(f"{what.capitalize()} must be from {low} to {high}; it is {text.strip()}.")
    return int(number)


def read_toil_csv(data: bytes | str) -> list[SpreadsheetRow]:
    """The rows of a toil spreadsheet, or a SpreadsheetError naming the first bad row and
    column: nothing is partly read."""
    text = _decode(data)
    if "\0" in text:
        raise SpreadsheetError("The file holds NUL characters: it is not a CSV file.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise SpreadsheetError(
            "The file is empty: it needs a header row and a row per task."
        ) from None
    except csv.Error as error:
        raise SpreadsheetError(f"Row 1: {error}") from None
    columns = {_normalised(name): index for index, name in enumerate(header) if name.strip()}
    missing = [name for name in (TASK, FREQUENCY, MINUTES) if _normalised(name) not in columns]
    if _normalised(PRIORITY) not in columns and _normalised(POTENTIAL) not in columns:
        missing.append(PRIORITY)
    if missing:
        raise SpreadsheetError(
            "The header row needs the columns "
            + ", ".join(f"“{name}”" for name in missing)
            + f" (found: {', '.join(repr(name) for name in header) or 'nothing'})."
        )

    rows: list[SpreadsheetRow] = []
    seen: dict[str, int] = {}
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise SpreadsheetError(f"The file has over {MAX_ROWS} rows; split it up.")
            rows.append(_read_row(number, cells, columns, seen))
    except csv.Error as error:
        raise SpreadsheetError(f"Row {reader.line_num}: {error}") from None
    if not rows:
        raise SpreadsheetError("The file has a header row but no task under it.")
    return rows


def _read_row(number: int, cells: list[str], columns: dict, seen: dict) -> SpreadsheetRow:
    def cell(name: str) -> str | None:
        index = columns.get(_normalised(name))
        if index is None:
            return None
        return cells[index].strip() if index < len(cells) else ""

    def fail(column: str, message: str):
        raise SpreadsheetError(f"Row {number}, column “{column}”: {message}")

    task = cell(TASK)
    if not task:
        fail(TASK, "the task is empty.")
    if len(task) > 200:
        fail(TASK, "the task is over 200 characters.")
    key = task.lower()
    if key in seen:
        fail(TASK, f"“{task}” is already on row {seen[key]}.")
    seen[key] = number
    try:
        frequency, unit = roi.parse_frequency(cell(FREQUENCY))
    except ValueError as error:
        fail(FREQUENCY, str(error))
    if frequency > 10_000:
        fail(FREQUENCY, "more than 10,000 times is not a task done by hand.")
    try:
        minutes = _whole_number(cell(MINUTES), low=1, high=MAX_MINUTES_EACH, what="minutes")
    except ValueError as error:
        fail(MINUTES, str(error))
    potential_text = cell(POTENTIAL)
    if potential_text:
        try:
            potential = _whole_number(potential_text, low=1, high=5, what="automation potential")
        except ValueError as error:
            fail(POTENTIAL, str(error))
    else:
        priority = cell(PRIORITY)
        if priority is None:
            fail(POTENTIAL, "give an automation potential from 1 to 5.")
        try:
            potential = roi.potential_from_priority(priority)
        except ValueError as error:
            fail(PRIORITY, str(error))
    category_text = cell(CATEGORY)
    category = None
    if category_text:
        category = _CATEGORIES.get(_normalised(category_text))
        if category is None:
            fail(
                CATEGORY,
                f"“{category_text}” is not a category: "
                + ", ".join(label for _, label in ToilCategory.choices)
                + ".",
            )
    description = cell(DESCRIPTION)
    if description is not None and len(description) > 5000:
        fail(DESCRIPTION, "the description is over 5,000 characters.")
    return SpreadsheetRow(
        row=number,
        task=task,
        frequency=frequency,
        frequency_unit=unit,
        minutes_each=minutes,
        automation_potential=potential,
        category=category,
        description=description,
    )


def _safe(value) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_toil_csv(items) -> str:
    """The items as a toil spreadsheet that read_toil_csv reads back."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for item in items:
        hours = round(item.monthly_minutes / 60, 1)
        writer.writerow(
            _safe(value)
            for value in (
                item.task,
                roi.format_frequency(item.frequency, item.frequency_unit),
                item.minutes_each,
                f"{hours:g} hours",
                roi.priority_from_potential(item.automation_potential),
                item.automation_potential,
                item.get_category_display(),
                item.description,
                item.team.name,
                item.get_status_display(),
            )
        )
    return output.getvalue()
