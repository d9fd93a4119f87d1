from django.db import migrations, models


def delete_claims(apps, schema_editor):
    # Rows without a response were the claims of requests that ran, or died, under the
    # previous scheme; a claim is now an advisory lock, and their retries run the command.
    apps.get_model("products", "IdempotencyKey").objects.filter(response_status=None).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('products', '0009_reservations'),
    ]

    operations = [
        migrations.RunPython(delete_claims, migrations.RunPython.noop, hints={'model_name': 'idempotencykey'}),
        migrations.RemoveField(
            model_name='idempotencykey',
            name='claimed_at',
        ),
        migrations.AlterField(
            model_name='idempotencykey',
            name='response_body',
            field=models.TextField(),
        ),
        migrations.AlterField(
            model_name='idempotencykey',
            name='response_status',
            field=models.PositiveSmallIntegerField(),
        ),
    ]
