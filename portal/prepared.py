"""Statements the ORM builds and compiles once per process, then runs with new values.

The pages ask the same statements on every request with a few values that change: the person,
the time, a record's id. Building a queryset and compiling it to SQL costs the ORM 0.5 to 1 ms
a statement, two to four times what PostgreSQL takes to answer most of them, and about half
of a page's time. ``prepared(build)`` turns a function that builds a queryset from keyword
arguments into one that returns the queryset's rows, building and compiling each shape once
per process:

- the first call of a shape builds and compiles the queryset twice: with stand-ins (numbers,
  times, days and texts of the same types as the call's values, which no constant of a
  statement is) and with the call's own values. The two must be the same SQL; where the
  stand-ins' parameters and the call's differ are the places each value goes;
- every call puts its own values in those places and runs the statement through the ORM's
  own iterable, so model instances, ``select_related``, annotations, ``values()`` rows, the
  database's conversions and ``prefetch_related`` come out as they do for any queryset.

A shape is what changes the SQL rather than its parameters: the length of each list (an ``IN``
has a placeholder per item), every value that is not a number, a time, a day, a text or a
saved record (``True``, ``None``...), which the build is given as it is, the arguments named
in ``shape=`` (a slice's bounds, which the ORM writes into the SQL), and the current time zone,
which the ORM's lookups by day or month write into theirs.

A build must make the same SQL for every value of a shape, since the calls share a statement:
one that reads the clock, branches on a value, rewrites one (``icontains`` wraps it in ``%``)
or is given one the ORM converts (a text where a number goes) cannot be prepared. The first
call of a shape refuses such a build: it raises ``PreparedQueryError`` under
``PREPARED_QUERIES_CHECK`` (on in the test suite), else logs it and builds that shape's calls
afresh. Under the check, every call is also compared with its queryset built afresh, which
catches a build that reads the clock or a setting.

PostgreSQL only: elsewhere (SQLite under ``make run``) every call builds its queryset.
"""

import copy
import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection, connections, models
from django.db.models import QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)

#: Stand-ins: numbers that every integer column holds (a small one's range ends at 32,767),
#: beyond the constants statements carry (ranks, limits, choices); days and times of 1901.
_NUMBER = 30_001
_MOMENT = dt.datetime(1901, 1, 1, tzinfo=dt.UTC)
_DAY = dt.date(1901, 1, 1)

#: Shapes kept per build: a list's length is part of the shape, and a build given lists of
#: every length would keep a statement for each.
MAX_SHAPES = 64


class PreparedQueryError(Exception):
    """A build that cannot share its statement between values (a programming error)."""


@dataclass(frozen=True)
class _Statement:
    queryset: QuerySet | None  # None: the statement selects nothing (an empty IN, say)
    compiler: Any
    sql: str
    params: tuple
    #: (position in params, argument name, index in a list or None, the parameter's class when
    #: the database backend wraps the value in one): where the values go.
    slots: tuple[tuple[int, str, int | None, type | None], ...]


#: A shape whose build cannot be prepared: its calls are built afresh.
_UNPREPARED = _Statement(None, None, "", (), ())


def _substituted(value) -> bool:
    """Whether a value goes into the statement as a parameter (else it is part of the shape)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, models.Model):
        return isinstance(value.pk, int)
    return isinstance(value, int | dt.date | str)


def _stand_in(value, number: int):
    """The ``number``-th stand-in of a build, of ``value``'s type."""
    if isinstance(value, int):
        return _NUMBER + number
    if isinstance(value, dt.datetime):
        moment = _MOMENT + dt.timedelta(seconds=number)
        return moment if value.tzinfo is not None else moment.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return _DAY + dt.timedelta(days=number)
    if isinstance(value, str):
        return f"\x1fstand-in {number}\x1f"
    record = value.__class__()  # a lazy user's class is the user's
    record.pk = _NUMBER + number
    return record


def _parameter(value):
    """What a value becomes among a statement's parameters: a record, its key."""
    return value.pk if isinstance(value, models.Model) else value


def _kind(parameter) -> type:
    """A parameter's kind: psycopg's backend hands integer columns' values over in its own
    int classes (Int2, Int4, Int8), which are ints."""
    for kind in (bool, int, dt.datetime, dt.date, str):
        if isinstance(parameter, kind):
            return kind
    return type(parameter)


def _wrapper(parameter) -> type | None:
    """The class a value is put in to take this parameter's place: the backend's int class,
    which tells PostgreSQL the column's type."""
    return type(parameter) if _kind(parameter) is int and type(parameter) is not int else None


def _type_shape(value):
    """What of a value's type its statement depends on: its class, and for a time whether it
    is naive (the ORM converts a naive time into the zone, not an aware one)."""
    if isinstance(value, dt.datetime):
        return (dt.datetime, value.tzinfo is None)
    return value.__class__


def _shape(values: dict, fixed: frozenset) -> tuple | None:
    """The call's shape (None: it cannot be prepared, so it is built)."""
    shape = []
    for name in sorted(values):
        value = values[name]
        if name in fixed:
            shape.append((name, "as is", value))
        elif isinstance(value, list):
            if not all(_substituted(item) for item in value):
                return None
            shape.append((name, "list", tuple(_type_shape(item) for item in value)))
        elif _substituted(value):
            shape.append((name, "value", _type_shape(value)))
        else:
            shape.append((name, "as is", value))
    try:
        hash(tuple(shape))
    except TypeError:
        return None
    return tuple(shape)


def _compile(queryset: QuerySet):
    """The queryset, its compiler, SQL and parameters; None for a statement that selects
    nothing (the ORM answers it without asking the database)."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    return queryset, compiler, sql, tuple(params)


def _items(values: dict, fixed: frozenset):
    """(argument name, index in its list or None, value) of each value that is a parameter."""
    for name, value in values.items():
        if name in fixed:
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield name, index, item
        elif _substituted(value):
            yield name, None, value


def _prepare(build: Callable[..., QuerySet], values: dict, fixed: frozenset) -> _Statement:
    kwargs = dict(values)
    kwargs.update({name: list(value) for name, value in values.items() if isinstance(value, list)})
    # Each stand-in as it appears among the parameters (a record, as its key): where it goes.
    stand_ins = {}
    for number, (name, index, item) in enumerate(_items(values, fixed), start=1):
        stand_in = _stand_in(item, number)
        if index is None:
            kwargs[name] = stand_in
        else:
            kwargs[name][index] = stand_in
        parameter = _parameter(stand_in)
        stand_ins[(_kind(parameter), parameter)] = (name, index)
    try:
        prepared = _compile(build(**kwargs))
    except (TypeError, ValueError, ValidationError) as error:  # a text where a number goes
        raise PreparedQueryError(
            f"{build.__qualname__} does not build with stand-ins ({error}): build it without "
            "prepared(), or give it values of its columns' types."
        ) from error
    own = _compile(build(**values))
    if prepared is None and own is None:
        return _Statement(None, None, "", (), ())
    if prepared is None or own is None or (prepared[2], len(prepared[3])) != (own[2], len(own[3])):
        raise PreparedQueryError(f"{build.__qualname__} builds another statement for other values.")
    queryset, compiler, sql, params = prepared
    slots = []
    for position, (param, value) in enumerate(zip(params, own[3], strict=True)):
        where = stand_ins.get((_kind(param), param))
        if where is not None:
            name, index = where
            # The call's own statement has the call's value there, as the ORM hands it over.
            if value != _parameter(values[name] if index is None else values[name][index]):
                raise PreparedQueryError(
                    f"{build.__qualname__}: the ORM converts the value of {name} "
                    f"({value!r}): build this queryset without prepared()."
                )
            slots.append((position, *where, _wrapper(param)))
        elif param != value:
            raise PreparedQueryError(
                f"{build.__qualname__}: its parameter {position + 1} is made from a value "
                f"({value!r}): a lookup rewrites it. Build this queryset without prepared()."
            )
    missing = set(stand_ins.values()) - {slot[1:3] for slot in slots}
    if missing:
        names = ", ".join(sorted({name for name, _ in missing}))
        raise PreparedQueryError(
            f"{build.__qualname__}: the value of {names} is not a parameter of its statement "
            "(unused, or rewritten by a lookup): build this queryset without prepared()."
        )
    return _Statement(queryset, compiler, sql, params, tuple(slots))


def _params(statement: _Statement, values: dict) -> list:
    params = list(statement.params)
    for position, name, index, wrapper in statement.slots:
        value = _parameter(values[name] if index is None else values[name][index])
        params[position] = value if wrapper is None else wrapper(value)
    return params


def _rows(statement: _Statement, params: list) -> list:
    template = statement.queryset
    compiler = copy.copy(statement.compiler)
    compiler.connection = connections[template.db]
    compiler.as_sql = lambda *args, **kwargs: (statement.sql, params)
    # A queryset and query of their own (the prepared ones are shared) whose compiler is the
    # prepared one: the ORM's iterable then runs the statement and builds the rows.
    query = copy.copy(template.query)
    query.get_compiler = lambda *args, **kwargs: compiler
    queryset = object.__new__(type(template))
    queryset.__dict__.update(template.__dict__)
    queryset._query = query
    queryset._result_cache = None
    queryset._prefetch_done = False
    return list(queryset)


def _check(build, values: dict, statement: _Statement, params: list) -> None:
    """Raise when the call's own queryset is not the prepared statement with its values."""
    fresh = _compile(build(**values))
    actual = None if fresh is None else (fresh[2], fresh[3])
    expected = None if statement.queryset is None else (statement.sql, tuple(params))
    if actual != expected:
        raise PreparedQueryError(
            f"{build.__qualname__} builds another statement for {values!r} than the one "
            f"prepared for its shape:\n{actual}\nprepared with these values:\n{expected}"
        )


def prepared(build: Callable[..., QuerySet] | None = None, *, shape: tuple[str, ...] = ()):
    """``build(**values) -> QuerySet`` as a function of the same keyword arguments that
    returns the queryset's rows (a list), built and compiled once per shape. The arguments
    named in ``shape`` are part of it whatever their type: a slice's bounds, which the ORM
    writes into the SQL. ``@prepared`` or ``@prepared(shape=("limit",))``."""
    if build is None:
        return functools.partial(prepared, shape=shape)
    fixed = frozenset(shape)
    statements: dict[tuple, _Statement] = {}

    @functools.wraps(build)
    def rows(**values) -> list:
        # Lists as an IN reads them: each value once (the ORM drops repeats).
        values = {
            name: list(dict.fromkeys(value)) if isinstance(value, list | tuple | set) else value
            for name, value in values.items()
        }
        key = _shape(values, fixed)
        if key is None or connection.vendor != "postgresql":
            return list(build(**values))
        # The ORM writes the current zone's name into lookups by day, month or year.
        key += (timezone.get_current_timezone_name(),)
        statement = statements.get(key)
        if statement is None:
            if len(statements) >= MAX_SHAPES:  # lists of many lengths: keep the first ones
                return list(build(**values))
            try:
                statement = _prepare(build, values, fixed)
            except PreparedQueryError:
                if settings.PREPARED_QUERIES_CHECK:
                    raise
                logger.exception("A statement could not be prepared: it is built each time.")
                statement = _UNPREPARED
            statements[key] = statement
        if statement is _UNPREPARED:
            return list(build(**values))
        params = _params(statement, values)
        if settings.PREPARED_QUERIES_CHECK:
            _check(build, values, statement, params)
        return [] if statement.queryset is None else _rows(statement, params)

    rows.statements = statements
    return rows
