"""Copy a demo loaded at head into a database made by an earlier migration, and compare contents.

The ORM models describe head, so the demo cannot be written into an older schema through the
services. Instead it is loaded at head and its rows are copied, with Core statements over
reflected tables, into whichever tables and columns the older revision has.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Integer, MetaData, Table, inspect, select, text

from workbench.store.migrate import MIGRATIONS

Row = tuple[object, ...]
Record = dict[str, object]

# Alembic's own bookkeeping: its row is the revision, never data to carry over.
VERSION_TABLE = "alembic_version"


def revisions_oldest_first() -> list[str]:
    """Every migration, from the first to head, as Alembic's script directory lists them."""
    script = ScriptDirectory(str(MIGRATIONS))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


@dataclass(frozen=True)
class TableContents:
    """One table's columns and every row, in primary-key order."""

    columns: tuple[str, ...]
    key: tuple[str, ...]
    surrogate: str | None
    """The single integer primary-key column, if the key is a generated number."""
    rows: tuple[Row, ...]

    def records(self) -> list[Record]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def by_key(self) -> dict[Row, Record]:
        return {tuple(r[k] for k in self.key): r for r in self.records()}


Contents = dict[str, TableContents]


def _surrogate(table: Table) -> str | None:
    key = list(table.primary_key.columns)
    if len(key) == 1 and isinstance(key[0].type, Integer):
        return key[0].name
    return None


def _reflect(connection: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(connection)
    return metadata


def snapshot(engine: Engine) -> Contents:
    """Every row of every table (but Alembic's), each column, in primary-key order."""
    out: Contents = {}
    with engine.connect() as connection:
        for table in _reflect(connection).sorted_tables:
            if table.name == VERSION_TABLE:
                continue
            key = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
            rows = connection.execute(select(table).order_by(*(table.c[k] for k in key)))
            out[table.name] = TableContents(
                columns=tuple(c.name for c in table.columns),
                key=tuple(key),
                surrogate=_surrogate(table),
                rows=tuple(tuple(row) for row in rows),
            )
    return out


def _without_surrogate(contents: TableContents, record: Mapping[str, object]) -> Row:
    return tuple(record[c] for c in contents.columns if c != contents.surrogate)


def seeded_after(fresh_at_revision: Contents, fresh_at_head: Contents) -> dict[str, list[Record]]:
    """Rows that a later migration itself writes into a table the revision already has
    (0003 seeds the theme vocabulary into `themes`, made empty by 0001): found by upgrading
    empty databases, so no migration's seeds are named here. Records are in head's columns."""
    out: dict[str, list[Record]] = {}
    for name, at_revision in fresh_at_revision.items():
        at_head = fresh_at_head[name]
        already = Counter(_without_surrogate(at_revision, r) for r in at_revision.records())
        later = []
        for record in at_head.records():
            projected = _without_surrogate(at_revision, record)
            if already[projected]:
                already[projected] -= 1
            else:
                later.append(record)
        if later:
            out[name] = later
    return out


@dataclass
class CopyReport:
    """What the copy did, per table, so a test can show it copied the demo and not a husk."""

    copied: Counter[str] = field(default_factory=Counter)
    already_there: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    seeded_later: Counter[str] = field(default_factory=Counter)
    """Rows a later migration writes itself: at this revision the database cannot hold them."""
    orphaned: Counter[str] = field(default_factory=Counter)
    """Rows pointing at a `seeded_later` row (a tag on a seeded theme): nothing to point at."""
    left_out: dict[str, set[Row]] = field(default_factory=lambda: defaultdict(set))
    """Primary keys, in the demo, of the rows not copied (seeded later or orphaned)."""


def _unique_keys(connection: Connection, table: Table) -> list[tuple[str, ...]]:
    """Column sets the revision keeps unique, a generated primary key left out."""
    found = inspect(connection)
    keys = [tuple(u["column_names"]) for u in found.get_unique_constraints(table.name)]
    keys += [
        tuple(str(c) for c in ix["column_names"] if c is not None)
        for ix in found.get_indexes(table.name)
        if ix.get("unique")
    ]
    if _surrogate(table) is None:
        keys.append(tuple(c.name for c in table.primary_key.columns))
    return [k for k in keys if k]


def _matches(record: Record, other: Mapping[str, object], keys: list[tuple[str, ...]]) -> bool:
    return any(all(record[c] == other[c] for c in key) for key in keys)


def _find(
    record: Record, candidates: Iterable[Record], keys: list[tuple[str, ...]]
) -> Record | None:
    return next((c for c in candidates if _matches(record, c, keys)), None)


def copy_demo(source: Engine, target: Engine, seeded: Mapping[str, list[Record]]) -> CopyReport:
    """Copy every row of every table and column the target has from the source, parents first.

    Rows the target already holds (the agencies 0001 seeds) are left, or brought up to the
    source's values; rows a later migration seeds, and rows that point only at them, are left
    out and counted. On PostgreSQL user triggers are off during the copy, as a restore does:
    their effects are already in the rows copied; afterwards each id sequence is moved past the
    copied ids so new rows get fresh ones."""
    report = CopyReport()
    with source.connect() as src, target.begin() as dst:
        source_tables = _reflect(src).tables
        tables = [t for t in _reflect(dst).sorted_tables if t.name != VERSION_TABLE]
        postgres = dst.dialect.name == "postgresql"
        quote = dst.dialect.identifier_preparer.quote
        if postgres:
            for table in tables:
                dst.execute(text(f"ALTER TABLE {quote(table.name)} DISABLE TRIGGER USER"))
        left_records: dict[str, list[Record]] = defaultdict(list)
        for table in tables:
            name = table.name
            if name not in source_tables:
                raise AssertionError(f"table {name} exists at this revision but not at head")
            origin = source_tables[name]
            columns = [c.name for c in table.columns]
            absent = [c for c in columns if c not in origin.c]
            if absent:
                raise AssertionError(f"{name}.{', '.join(absent)} exist here but not at head")
            keys = _unique_keys(dst, table)
            primary = [c.name for c in table.primary_key.columns]
            existing = [dict(r) for r in dst.execute(select(table)).mappings()]
            later = seeded.get(name, [])
            parents = [
                (
                    [e.parent.name for e in fk.elements],
                    fk.referred_table.name,
                    [e.column.name for e in fk.elements],
                )
                for fk in table.foreign_key_constraints
            ]
            rows = src.execute(
                select(*(origin.c[c] for c in columns)).order_by(*(origin.c[c] for c in primary))
            ).mappings()
            inserts: list[Record] = []
            for row in rows:
                record = dict(row)
                pk = tuple(record[c] for c in primary)
                if any(
                    all(record[c] is not None for c in mine)
                    and any(
                        all(record[m] == gone[r] for m, r in zip(mine, theirs, strict=True))
                        for gone in left_records[parent]
                    )
                    for mine, parent, theirs in parents
                ):
                    report.orphaned[name] += 1
                    report.left_out[name].add(pk)
                    left_records[name].append(record)
                    continue
                present = _find(record, existing, [*keys, tuple(primary)])
                if present is not None:
                    if present == record:
                        report.already_there[name] += 1
                    elif all(present[c] == record[c] for c in primary):
                        dst.execute(
                            table.update()
                            .where(*(table.c[c] == record[c] for c in primary))
                            .values({c: v for c, v in record.items() if c not in primary})
                        )
                        report.updated[name] += 1
                    else:
                        raise AssertionError(f"{name} {pk}: clashes with {present}")
                    continue
                if later and _find(
                    record, later, keys or [tuple(c for c in columns if c not in primary)]
                ):
                    report.seeded_later[name] += 1
                    report.left_out[name].add(pk)
                    left_records[name].append(record)
                    continue
                inserts.append(record)
            if inserts:
                dst.execute(table.insert(), inserts)
            report.copied[name] += len(inserts)
        if postgres:
            for table in tables:
                dst.execute(text(f"ALTER TABLE {quote(table.name)} ENABLE TRIGGER USER"))
                surrogate = _surrogate(table)
                if surrogate is not None:
                    _move_sequence(dst, table.name, surrogate)
    return report


def _move_sequence(connection: Connection, table: str, column: str) -> None:
    quote = connection.dialect.identifier_preparer.quote
    sequence = connection.execute(
        text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": quote(table), "c": column}
    ).scalar_one_or_none()
    if sequence is None:
        return
    connection.execute(
        text(
            f"SELECT setval(:s, coalesce((SELECT max({quote(column)}) FROM {quote(table)}), 0)"
            " + 1, false)"
        ),
        {"s": sequence},
    )


def copy_problems(
    demo: Contents, fresh: Contents, copied: Contents, report: CopyReport
) -> list[str]:
    """Where the copy differs from the demo: every demo row but those left out must be there
    with the same values in the revision's columns, and nothing else but the revision's seeds."""
    problems: list[str] = []
    for name, table in copied.items():
        have = table.by_key()
        expected = {
            key: {c: record[c] for c in table.columns}
            for key, record in demo[name].by_key().items()
            if key not in report.left_out.get(name, set())
        }
        for key, record in expected.items():
            if have.get(key) != record:
                problems.append(f"{name} {key}: demo {record}, copied {have.get(key)}")
        extra = set(have) - set(expected) - set(fresh[name].by_key())
        problems.extend(
            f"{name} {key}: in the copy, not in the demo" for key in sorted(extra, key=repr)
        )
    return problems


def lost_or_changed(before: Contents, after: Contents) -> list[str]:
    """Every table, column and row before must be there after, with the same values."""
    problems: list[str] = []
    for name, table in before.items():
        if name not in after:
            problems.append(f"table {name} is gone")
            continue
        gone = [c for c in table.columns if c not in after[name].columns]
        if gone:
            problems.append(f"{name}: columns {gone} are gone")
            continue
        now = after[name].by_key()
        for key, record in table.by_key().items():
            later = now.get(key)
            if later is None:
                problems.append(f"{name} {key}: row lost ({record})")
                continue
            problems.extend(
                f"{name} {key}.{c}: {v!r} became {later[c]!r}"
                for c, v in record.items()
                if later[c] != v
            )
    return problems


def added_rows(before: Contents, after: Contents) -> dict[str, Counter[Row]]:
    """Rows that appeared in tables that already existed, generated ids left out."""
    out: dict[str, Counter[Row]] = {}
    for name, table in before.items():
        later = after[name]
        old = table.by_key()
        new = Counter(
            _without_surrogate(later, record)
            for key, record in later.by_key().items()
            if key not in old
        )
        if new:
            out[name] = new
    return out


def as_rows(contents: Contents, seeded: Mapping[str, list[Record]]) -> dict[str, Counter[Row]]:
    """Seeded records in the shape `added_rows` gives, to compare the two."""
    return {
        name: Counter(_without_surrogate(contents[name], r) for r in records)
        for name, records in seeded.items()
    }
