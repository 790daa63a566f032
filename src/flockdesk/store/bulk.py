"""Multi-row INSERT / UPDATE for the ingest hot path, below SQLAlchemy's per-row parameter handling.

SQLite: one prepared statement run by the driver's `executemany` (BEGIN IMMEDIATE already holds the
write lock, so the batch is the only writer). PostgreSQL: ONE statement per batch whose rows arrive as
one JSON document, `INSERT ... SELECT FROM json_to_recordset(...)` / `UPDATE ... FROM
json_to_recordset(...)`: orjson encodes in C, the server decodes in C, and the server parses one short
query instead of a 5,000-row VALUES list (psycopg's text-array escaping was the bottleneck).

Values are stored exactly as SQLAlchemy Core would store them for these column types (SQLite
datetimes as "YYYY-MM-DD HH:MM:SS.ffffff" UTC text, JSON as text), so Core reads them back normally.
These writers bypass `UTCDateTime`'s per-value hook on purpose (the hot path) and apply its rule
themselves: aware datetimes are stored as UTC, a naive one is refused with `NaiveDatetimeError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection

from flockdesk.store.types import UTCDateTime, to_store


def _pg_type(col: sa.Column[Any]) -> str:
    t = col.type
    if isinstance(t, sa.JSON):
        return "json"
    if isinstance(t, UTCDateTime | sa.DateTime):
        return "timestamptz"
    if isinstance(t, sa.Boolean):
        return "boolean"
    if isinstance(t, sa.Float):
        return "float8"
    if isinstance(t, sa.Integer):
        return "bigint"
    if isinstance(t, sa.LargeBinary):
        return "bytea"
    return "text"


def _sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is UTC:  # the common case: "YYYY-MM-DD HH:MM:SS.ffffff+00:00" minus the offset
        return value.isoformat(" ", "microseconds")[:26]
    return to_store(value, True).isoformat(" ", "microseconds")


def _pg_time(value: datetime | None) -> datetime | None:
    """orjson writes an offset for aware values; a naive one would be read in the session's zone."""
    if value is None or value.tzinfo is UTC:
        return value
    return to_store(value, False)


def _is_time(col: sa.Column[Any]) -> bool:
    return isinstance(col.type, UTCDateTime | sa.DateTime)


def _sqlite_values(col: sa.Column[Any], values: list[Any]) -> list[Any]:
    """One column's values as the SQLite driver takes them. Written out per type, not as a call per
    value: this runs for every column of every row an import writes."""
    if isinstance(col.type, sa.JSON):
        dumps, option = orjson.dumps, orjson.OPT_NON_STR_KEYS
        return [None if v is None else dumps(v, option=option).decode() for v in values]
    if _is_time(col):
        return [
            None
            if v is None
            else v.isoformat(" ", "microseconds")[:26]
            if v.tzinfo is UTC
            else _sqlite_time(v)
            for v in values
        ]
    return values


def _columns(
    conn: Connection, table: sa.Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[list[Any]]:
    """Column-major values, converted for the SQLite driver."""
    return [_sqlite_values(table.c[name], [r[name] for r in rows]) for name in names]


def _conflict_sql(conflict: Sequence[str], update: Sequence[str]) -> str:
    if not conflict:
        return ""
    target = ", ".join(conflict)
    if not update:
        return f" ON CONFLICT ({target}) DO NOTHING"
    sets = ", ".join(f"{c} = excluded.{c}" for c in update)
    return f" ON CONFLICT ({target}) DO UPDATE SET {sets}"


def bulk_insert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> int:
    """INSERT every row (same keys in each); returns how many rows were inserted or updated."""
    if not rows:
        return 0
    names = list(rows[0].keys())
    tail = _conflict_sql(conflict, update)
    collist = ", ".join(names)
    if conn.dialect.name != "sqlite":
        sql = f"INSERT INTO {table.name} ({collist}) SELECT {collist} FROM {_recordset(table, names)}{tail}"
        return int(conn.exec_driver_sql(sql, {"rows": _pg_rows(table, names, rows)}).rowcount)
    cols = _columns(conn, table, names, rows)
    keep = [i for i, n in enumerate(names) if not (table.c[n].nullable and cols[i].count(None) == len(rows))]
    if len(keep) < len(names):  # all-NULL columns need no binding (they are nullable, default NULL)
        names, cols = [names[i] for i in keep], [cols[i] for i in keep]
    collist = ", ".join(names)
    marks = ", ".join("?" for _ in names)
    sql = f"INSERT INTO {table.name} ({collist}) VALUES ({marks}){tail}"
    return int(conn.exec_driver_sql(sql, list(zip(*cols, strict=True))).rowcount)


def _recordset(table: sa.Table, names: Sequence[str]) -> str:
    defs = ", ".join(f"{n} {_pg_type(table.c[n])}" for n in names)
    return f"json_to_recordset(%(rows)s::json) AS u({defs})"


def _pg_rows(table: sa.Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """The batch as ONE JSON document: orjson encodes it in C and the server decodes it in C.

    The rows are encoded as they are when they can be: plain dicts (a key the recordset does not
    name is ignored by it) whose datetimes are all UTC, the common case. Otherwise each row is copied
    with its datetimes converted (`_pg_time`)."""
    times = [n for n in names if _is_time(table.c[n])]
    as_is = all(type(r) is dict for r in rows) and all(
        v is None or (isinstance(v, datetime) and v.tzinfo is UTC)
        for n in times
        for v in [r[n] for r in rows]
    )
    data: Sequence[Mapping[str, Any]] = rows
    if not as_is:
        copied = [{n: r[n] for n in names} for r in rows]
        for name in times:
            for d in copied:
                d[name] = _pg_time(d[name])
        data = copied
    text = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
    if "\\u0000" in text:  # PostgreSQL's JSON functions refuse NUL: the rare slow path drops it
        text = orjson.dumps(_without_nul(data), option=orjson.OPT_NON_STR_KEYS).decode()
    return text


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def bulk_update(
    conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], *, key: str = "id"
) -> int:
    """UPDATE table SET <other keys> WHERE key = row[key], for every row (same keys in each)."""
    if not rows:
        return 0
    names = [n for n in rows[0] if n != key]
    if conn.dialect.name == "sqlite":
        cols = _columns(conn, table, [key, *names], rows)
        sets = ", ".join(f"{n} = ?" for n in names)
        sql = f"UPDATE {table.name} SET {sets} WHERE {key} = ?"
        params = list(zip(*cols[1:], cols[0], strict=True))
        return int(conn.exec_driver_sql(sql, params).rowcount)
    sets = ", ".join(f"{n} = u.{n}" for n in names)
    sql = (
        f"UPDATE {table.name} AS t SET {sets} FROM {_recordset(table, [key, *names])} WHERE t.{key} = u.{key}"
    )
    return int(conn.exec_driver_sql(sql, {"rows": _pg_rows(table, [key, *names], rows)}).rowcount)
