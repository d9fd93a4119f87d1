# Reservations: holds on stock during checkout (write side), their read rows and holds (read side).

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

# What a stock removal must leave at a (product, location): what active reservations hold
# there, as committed now. The stock commands' one statement calls it after taking the
# product's lock; its query takes a fresh snapshot (VOLATILE plpgsql), so a reservation
# committed while the statement waited for the lock is counted (see 0007's function).
KEEP_HELD_SQL = """
    CREATE FUNCTION products_keep_held(new_quantity bigint, product uuid, location bigint) RETURNS bigint
    LANGUAGE plpgsql VOLATILE AS $$
    DECLARE
        holding bigint := (SELECT coalesce(sum(quantity), 0) FROM products_reservationline
                            WHERE product_id = product AND location_id = location AND held_until > clock_timestamp());
    BEGIN
        IF new_quantity < holding THEN
            RAISE EXCEPTION 'stock held by reservations: % held, % would be left', holding, new_quantity
                USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_held_by_reservations', DETAIL = holding;
        END IF;
        RETURN new_quantity;
    END $$;
"""

# What a commit's statement adds to the stock it changes to get a product's total: the stock
# at the product's other locations, as committed now (a bulk import may have changed them
# while the statement waited for the product's row). Fresh for the same reason as 0007's.
STOCK_OUTSIDE_SQL = """
    CREATE FUNCTION products_stock_outside(product uuid, locations bigint[]) RETURNS bigint
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        RETURN (SELECT coalesce(sum(quantity), 0) FROM products_stocklevel
                 WHERE product_id = product AND location_id <> ALL (locations));
    END $$;
"""



class Migration(migrations.Migration):

    dependencies = [
        ('products', '0008_stock_level_location_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(
            model_name='productview',
            name='in_stock',
        ),
        migrations.CreateModel(
            name='Reservation',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('status', models.CharField(choices=[('active', 'Active'), ('committed', 'Committed'), ('released', 'Released'), ('expired', 'Expired')], default='active', max_length=10)),
                ('reference', models.CharField(blank=True, max_length=200, null=True)),
                ('expires_at', models.DateTimeField()),
                ('version', models.PositiveIntegerField(default=1)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='ReservationLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('quantity', models.IntegerField()),
                ('held_until', models.DateTimeField(null=True)),
                ('location', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='products.location')),
                ('product', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='products.product')),
                ('reservation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='products.reservation')),
            ],
        ),
        migrations.CreateModel(
            name='ReservationView',
            fields=[
                ('id', models.UUIDField(primary_key=True, serialize=False)),
                ('status', models.CharField(max_length=10)),
                ('reference', models.CharField(max_length=200, null=True)),
                ('expires_at', models.DateTimeField()),
                ('lines', models.JSONField()),
                ('version', models.IntegerField()),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField()),
            ],
            options={
                'db_table': 'read_reservation',
                'indexes': [models.Index(fields=['created_at', 'id'], name='read_reservation_created'), models.Index(fields=['reference', 'created_at', 'id'], name='read_reservation_reference')],
            },
        ),
        migrations.CreateModel(
            name='StockHoldView',
            fields=[
                ('key', models.CharField(max_length=120, primary_key=True, serialize=False)),
                ('reservation_id', models.UUIDField()),
                ('product_id', models.UUIDField()),
                ('location', models.CharField(max_length=32)),
                ('quantity', models.IntegerField()),
                ('expires_at', models.DateTimeField()),
            ],
            options={
                'db_table': 'read_stock_hold',
                'indexes': [models.Index(fields=['product_id', 'location', 'expires_at'], name='read_stock_hold_product'), models.Index(fields=['reservation_id'], name='read_stock_hold_reservation')],
            },
        ),
        migrations.AddIndex(
            model_name='reservation',
            index=models.Index(condition=models.Q(('status', 'active')), fields=['expires_at'], name='reservation_active_expiry'),
        ),
        migrations.AddConstraint(
            model_name='reservation',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['active', 'committed', 'released', 'expired'])), name='reservation_status_known'),
        ),
        migrations.AddIndex(
            model_name='reservationline',
            index=models.Index(condition=models.Q(('held_until__isnull', False)), fields=['product', 'location', 'held_until'], name='reservation_line_held'),
        ),
        migrations.AddConstraint(
            model_name='reservationline',
            constraint=models.UniqueConstraint(fields=('reservation', 'product', 'location'), name='reservation_line_unique'),
        ),
        migrations.AddConstraint(
            model_name='reservationline',
            constraint=models.CheckConstraint(condition=models.Q(('quantity__gte', 1), ('quantity__lte', 1000000000)), name='reservation_line_quantity_in_range'),
        ),
        migrations.RunSQL(KEEP_HELD_SQL, "DROP FUNCTION products_keep_held", hints={'model_name': 'reservationline'}),
        migrations.RunSQL(STOCK_OUTSIDE_SQL, "DROP FUNCTION products_stock_outside", hints={'model_name': 'reservationline'}),
    ]
