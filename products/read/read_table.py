"""How a read table is defined: its columns, and the SQL every use of it derives from them.

A ``ReadTable`` lists its columns with, for each, the SQL that computes it from the write
tables, the API field it is shown as and its Django field. Everything else is derived from
that list: the Django model that migrations create the table from
(``products.read.models``), the rows the write tables imply (``expected_sql``: rebuilds and
verification), the upsert of a row from an event payload (``upsert_sql``) and the rows of a
JSON array of payloads (``json_rows_sql``), the SELECT
that queries return in API shape (``api_select``), and the JSON of a row in event payloads
(``api_json``). The tables themselves are defined in ``products.read.tables``.
"""

import dataclasses
import re
from dataclasses import KW_ONLY, dataclass

from django.db import models

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")  # a named parameter: a payload field


@dataclass(frozen=True)
class Column:
    """One column of a read table.

    ``source`` computes it from the write tables; ``api`` is the field it is shown as (None:
    not shown); ``render`` is how the API shows it (``{}`` is the column); ``from_payload``
    computes it from a payload in API shape (default: the API field). ``field`` is its Django
    field, as its table's model declares it (the key's is made the primary key).
    """

    name: str
    source: str
    api: str | None = None
    render: str = "{}"
    from_payload: str | None = None
    json: str | None = None  # how an event payload renders it, when not as the API does
    _: KW_ONLY
    # Left out of equality and hashing (as are a table's indexes and meta): a table compares
    # as the SQL it stands for.
    field: models.Field = dataclasses.field(compare=False)

    def payload_expression(self):
        return self.from_payload or f"%({self.api})s"


@dataclass(frozen=True)
class ReadTable:
    """A read table, and how its rows follow from the write tables.

    ``model`` names the Django model ``products.read.models`` builds from it (migrations name
    it so); ``indexes`` and ``meta`` (more ``Meta`` options) are that model's.
    """

    name: str
    label: str  # what its rows are, for people: "products"
    model: str
    key: str
    key_type: str  # the SQL type of the key
    columns: tuple
    sources: str  # FROM clause over the write tables
    scope: str = "TRUE"  # which write rows have a read row
    on_conflict: str = "update"  # "update" (replace the row) or "nothing" (rows never change)
    version: str | None = None  # a column that only grows: an upsert never moves a row back
    indexes: tuple = dataclasses.field(default=(), compare=False)  # of models.Index
    meta: dict = dataclasses.field(default_factory=dict, compare=False)

    @property
    def key_source(self):
        """Return the SQL expression of the key over the write tables."""
        return next(column.source for column in self.columns if column.name == self.key)

    @property
    def column_names(self):
        return tuple(column.name for column in self.columns)

    def expected_sql(self, where="TRUE", sources=None, scope=None, overrides=None, extra=()):
        """Return a SELECT of the rows the write tables imply, narrowed by ``where``.

        ``sources`` and ``scope`` replace the FROM clause and the filter, e.g. to compute the
        row from a statement's own RETURNING rows under the same aliases; ``overrides``
        replace the sources of some columns (``{name: SQL}``); ``extra`` are more select-list
        items (``expression AS name``), after the columns.
        """
        sources_of = {column.name: column.source for column in self.columns} | (overrides or {})
        select = ", ".join([*(f"{sources_of[column.name]} AS {column.name}" for column in self.columns), *extra])
        return f"SELECT {select} FROM {sources or self.sources} WHERE {scope or self.scope} AND ({where})"

    def conflict_clause(self, update=None):
        """Return the ON CONFLICT clause of an upsert of all columns (or of ``update``), never backwards."""
        if self.on_conflict == "nothing":
            return f"ON CONFLICT ({self.key}) DO NOTHING"
        names = update or [name for name in self.column_names if name != self.key]
        assignments = ", ".join(f"{name} = EXCLUDED.{name}" for name in names)
        guard = f" WHERE {self.name}.{self.version} <= EXCLUDED.{self.version}" if self.version else ""
        return f"ON CONFLICT ({self.key}) DO UPDATE SET {assignments}{guard}"

    def insert_sql(self, select, upsert=True, update=None, returning=None):
        """Return an upsert of the rows ``select`` yields (in column order); a plain INSERT without ``upsert``.

        ``update`` as in conflict_clause; ``returning`` is a RETURNING list.
        """
        conflict = f" {self.conflict_clause(update)}" if upsert else ""
        returning = f" RETURNING {returning}" if returning else ""
        return f"INSERT INTO {self.name} ({', '.join(self.column_names)}) {select}{conflict}{returning}"

    def upsert_sql(self, update=None, when=None):
        """Return an upsert of one row from a payload in API shape (named parameters); see conflict_clause.

        ``when`` (an SQL condition) makes it insert nothing unless the condition holds.
        """
        values = ", ".join(column.payload_expression() for column in self.columns)
        rows = f"SELECT {values} WHERE {when}" if when else f"VALUES ({values})"
        return f"INSERT INTO {self.name} ({', '.join(self.column_names)}) {rows} {self.conflict_clause(update)}"

    def payload_fields(self):
        """Return the payload fields the columns are computed from, in column order."""
        fields = {}
        for column in self.columns:
            fields.update(dict.fromkeys(_PLACEHOLDER.findall(column.payload_expression())))
        return tuple(fields)

    def payload_expressions(self, alias):
        """Return each column's expression over the payload fields, read as columns of row ``alias``."""
        return [_PLACEHOLDER.sub(rf"{alias}.\1", column.payload_expression()) for column in self.columns]

    def json_rows_sql(self, types, parameter="rows"):
        """Return a SELECT of this table's rows (column order, named as its columns) from a JSON array of payloads.

        The array is parameter ``parameter``; ``types`` gives each column's SQL type (``{name: type}``):
        every field is read as text and each column's expression over them cast to its type, as
        the VALUES of ``upsert_sql`` are. The array is read as ``json``, not ``jsonb``: parsed
        once, with no binary form built first (a tenth less of the server's work on a bulk import's rows).
        """
        fields = ", ".join(f"{field} text" for field in self.payload_fields())
        values = ", ".join(
            f"CAST({expression} AS {types[column.name]}) AS {column.name}"
            for expression, column in zip(self.payload_expressions("r"), self.columns, strict=True)
        )
        return f"SELECT {values} FROM json_to_recordset(%({parameter})s::json) AS r({fields})"

    def upsert_rows_sql(self, types, update=None, returning=None):
        """Return one upsert of many rows from a JSON array of payloads in API shape (parameter ``rows``).

        ``types`` as in json_rows_sql; see conflict_clause; ``returning`` is a RETURNING list.
        Rows with the same key must be merged first: one statement may not update a row twice.
        """
        return self.insert_sql(self.json_rows_sql(types), update=update, returning=returning)

    def api_select(self, source=None, fields=None, extra=()):
        """Return a SELECT of the API fields (or ``fields`` of them) from the table or ``source``.

        ``extra`` are more select-list items (``expression AS field``), after them.
        """
        shown = [column for column in self.columns if column.api and (fields is None or column.api in fields)]
        select = ", ".join([*(f"{column.render.format(column.name)} AS {column.api}" for column in shown), *extra])
        return f"SELECT {select} FROM {source or self.name}"

    def api_json(self, alias):
        """Return a SQL ``jsonb`` object of the API fields of row ``alias``, as event payloads carry them."""
        fields = ", ".join(
            f"'{column.api}', {(column.json or column.render).format(f'{alias}.{column.name}')}"
            for column in self.columns
            if column.api
        )
        return f"jsonb_build_object({fields})"


# A timestamp in an event payload: UTC, microseconds, "Z" (as event_log renders them in Python).
UTC_TIMESTAMP = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
