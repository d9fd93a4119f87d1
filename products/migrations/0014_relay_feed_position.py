from django.db import migrations, models

# A position stored by the relay that read the table: every event up to it in (xact_id, id)
# order was published, and none of a finished transaction after it. With no snapshot, the
# relay starts from one and publishes what it saw after that position, then the slot.
HIGHEST_PUBLISHED = """
    UPDATE products_relayposition AS position
       SET highest_event_id = coalesce((
           SELECT max(id) FROM products_event AS event
            WHERE (event.xact_id, event.id) <= (position.last_xact_id, position.last_event_id)
       ), 0)
"""


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0013_projector_feed_position'),
    ]

    operations = [
        migrations.AddField(
            model_name='relayposition',
            name='caught_up',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='relayposition',
            name='highest_event_id',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='relayposition',
            name='lsn',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='relayposition',
            name='snapshot',
            field=models.TextField(blank=True, default=''),
        ),
        migrations.RunSQL(HIGHEST_PUBLISHED, migrations.RunSQL.noop),
    ]
