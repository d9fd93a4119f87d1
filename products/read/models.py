"""The read model: denormalized tables written only by the projector, and the worker's position.

Each row carries everything one API representation needs, so a read is one query over
one table. Each read table is declared once, in ``products.read.tables``: its model here is
built from that declaration (migrations and the router go by the model), and its rows can
always be rebuilt from the write tables.
"""

from django.db import models

from products.read.tables import READ_TABLES


def read_model(table):
    """Return the Django model of read table ``table``: its columns' fields, its key the primary key."""
    fields = {}
    for column in table.columns:
        # A copy: Django binds a field to the one model it is added to.
        _name, _path, args, kwargs = column.field.deconstruct()
        fields[column.name] = type(column.field)(*args, **kwargs, primary_key=column.name == table.key)
    meta = type(
        "Meta",
        (),
        {
            "app_label": "products",
            "db_table": table.name,
            "indexes": [index.clone() for index in table.indexes],
            **table.meta,
        },
    )
    return type(
        table.model,
        (models.Model,),
        {
            "__module__": __name__,
            "__doc__": f"A row of {table.name} ({table.label}), as products.read.tables declares it.",
            "__str__": lambda row: str(row.pk),
            "Meta": meta,
            **fields,
        },
    )


# Every read table's model, by table name; each is also this module's attribute under its
# class name (``ProductView``), as migrations and code name them.
READ_MODELS = {table.name: read_model(table) for table in READ_TABLES}
globals().update({model.__name__: model for model in READ_MODELS.values()})


class ProjectorPosition(models.Model):
    """Where a projector is in the event feed (``products.events.feed``), stored with the rows it produced."""

    name = models.CharField(max_length=50, primary_key=True)
    # The snapshot of the write database this position started from: the events it saw are
    # read from the table, in (xact_id, id) order, up to (last_xact_id, last_event_id) so far,
    # until caught_up; the slot's transactions it saw are skipped.
    snapshot = models.TextField(default="", blank=True)
    last_xact_id = models.BigIntegerField(default=0)
    last_event_id = models.BigIntegerField(default=0)
    caught_up = models.BooleanField(default=False)
    # The end of the last commit applied from the slot: what is at or below it was applied.
    lsn = models.BigIntegerField(default=0)
    highest_event_id = models.BigIntegerField(default=0)  # the highest id applied, for the lag
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "read_projector_position"

    def __str__(self):
        return f"{self.name}@{self.last_event_id}"
