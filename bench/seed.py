"""Create, migrate and fill the benchmark databases, set-based, and time the read-model rebuild.

Each size has its own pair of databases (bench_service_<n>, bench_baseline_<n>) on the local
PostgreSQL, so a seeded million stays in place while 10,000 is benchmarked, and is reused
when its counts still match. Rows come from generate_series in a handful of INSERT ... SELECT
statements; the service's read tables are then filled by its own ``rebuild.rebuild_all()``.

``python -m bench.seed time-rebuild`` runs inside the service's Django settings (run.py calls
it in a subprocess) and prints the timings as JSON.
"""

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
TOKEN = "bench" + "0" * 35  # a DRF token key is 40 characters
SECRET_KEY = "bench-secret-key-not-for-production-" + "k9Xq2LmZ7vR4tW8yB3nH6jF1"
SEED_LOG = ROOT / "bench" / ".data" / "seed.json"
# Where every benchmark writes its figures; CI's smoke runs point it at a scratch folder.
RESULTS = Path(os.environ.get("BENCH_RESULTS") or ROOT / "bench" / "results")
HOT_PRODUCT = 1  # the product every stock-adjust request goes to

CATEGORIES = [
    "Hand tools",
    "Power tools",
    "Garden",
    "Plumbing",
    "Electrical",
    "Fasteners",
    "Paint",
    "Safety",
    "Storage",
    "Lighting",
    "Adhesives",
    "Measuring",
    "Ladders",
    "Outdoor",
    "Automotive",
    "Welding",
    "Woodworking",
    "Abrasives",
    "Hardware",
    "Cleaning",
]
ADJECTIVES = [
    "Heavy-duty",
    "Compact",
    "Cordless",
    "Stainless",
    "Ergonomic",
    "Precision",
    "Industrial",
    "Classic",
    "Professional",
    "Lightweight",
    "Folding",
    "Magnetic",
    "Adjustable",
    "Insulated",
    "Galvanized",
    "Reinforced",
]
MATERIALS = ["steel", "aluminium", "brass", "oak", "fibreglass", "carbon", "copper", "titanium", "rubber", "nylon"]
NOUNS = [
    "hammer",
    "wrench",
    "screwdriver",
    "pliers",
    "drill",
    "saw",
    "chisel",
    "clamp",
    "level",
    "tape measure",
    "sander",
    "grinder",
    "socket set",
    "utility knife",
    "file",
    "mallet",
    "crowbar",
    "ladder",
    "workbench",
    "toolbox",
    "flashlight",
    "extension cord",
    "glue gun",
    "staple gun",
    "paint brush",
    "roller",
    "trowel",
    "shovel",
    "rake",
    "hose",
    "sprinkler",
    "wheelbarrow",
    "padlock",
    "hinge",
    "bracket",
    "anchor",
    "bolt",
    "washer",
    "nail",
    "screw",
]
USES = [
    "workshops",
    "home repairs",
    "garden work",
    "construction sites",
    "plumbing",
    "electrical work",
    "carpentry",
    "car maintenance",
]
SEARCH_WORD = "hammer"  # one noun in 40: 2.5% of the products
FILTER_CATEGORY = "hand-tools"  # one category in 20: 5% of the products


def _array(values):
    return "ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


# One row per product number i; both databases get the same products from the same expressions.
PRODUCT_ROWS = f"""
    SELECT i,
           md5('product-' || i)::uuid AS uuid,
           'SKU-' || lpad(i::text, 7, '0') AS sku,
           w.adj[1 + i %% 16] || ' ' || w.mat[1 + (i / 16) %% 10] || ' ' || w.noun[1 + (i * 7) %% 40]
               || ' ' || (100 + i %% 900) AS name,
           'A ' || lower(w.adj[1 + i %% 16]) || ' ' || w.noun[1 + (i * 7) %% 40] || ' made of '
               || w.mat[1 + (i / 16) %% 10] || ' for ' || w.use[1 + (i / 3) %% 8] || '. Model '
               || upper(substr(md5(i::text), 1, 6)) || ', ' || (50 + (i * 37) %% 4950) || ' g, '
               || (1 + i %% 5) || '-year warranty.' AS description,
           1 + (i * 31) %% 20 AS category_id,
           ((i::bigint * 7919) %% 99900 + 100) / 100.0 AS price,
           (i::bigint * 7919) %% 500 AS quantity,
           now() - interval '400 days' + (i || ' seconds')::interval AS created_at
      FROM generate_series(1, %(n)s) AS i,
           (SELECT {_array(ADJECTIVES)} AS adj, {_array(MATERIALS)} AS mat,
                   {_array(NOUNS)} AS noun, {_array(USES)} AS use) AS w
"""

CATEGORY_ROWS = f"""
    SELECT i AS id, lower(replace(name, ' ', '-')) AS slug, name
      FROM unnest({_array(CATEGORIES)}) WITH ORDINALITY AS t(name, i)
"""

SERVICE_SEED = [
    "TRUNCATE products_stockmovement, products_stocklevel, products_product, products_category,"
    " read_stock_movement, read_stock_level, read_product, read_category CASCADE",
    f"INSERT INTO products_category (id, slug, name, created_at, updated_at)"
    f" SELECT id, slug, name, now() - interval '500 days', now() - interval '500 days' FROM ({CATEGORY_ROWS}) c",
    "SELECT setval(pg_get_serial_sequence('products_category', 'id'), 100)",
    f"INSERT INTO products_product (id, sku, name, description, category_id, price, reorder_point, version,"
    f" is_archived, created_at, updated_at) SELECT uuid, sku, name, description, category_id, price, 0, 1, false,"
    f" created_at, created_at FROM ({PRODUCT_ROWS}) p",
    # All stock at the main location (its migration creates it).
    "INSERT INTO products_stocklevel (product_id, location_id, quantity)"
    " SELECT md5('product-' || i)::uuid, (SELECT id FROM products_location WHERE code = 'main'),"
    " (i::bigint * 7919) %% 500 FROM generate_series(1, %(n)s) AS i",
    "INSERT INTO products_stockmovement (product_id, location_id, delta, quantity_after, reason, created_at)"
    " SELECT p.id, s.location_id, s.quantity, s.quantity, 'initial stock', p.created_at"
    " FROM products_product p JOIN products_stocklevel s ON s.product_id = p.id",
    """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
        is_active, date_joined) VALUES ('!', true, 'bench', '', '', '', true, true, now())
        ON CONFLICT (username) DO NOTHING""",
    f"""INSERT INTO authtoken_token (key, created, user_id) SELECT '{TOKEN}', now(), id FROM auth_user
        WHERE username = 'bench' ON CONFLICT DO NOTHING""",
]

BASELINE_SEED = [
    "TRUNCATE shop_stockmovement, shop_product, shop_category CASCADE",
    f"INSERT INTO shop_category (id, slug, name) SELECT id, slug, name FROM ({CATEGORY_ROWS}) c",
    "SELECT setval(pg_get_serial_sequence('shop_category', 'id'), 100)",
    f"INSERT INTO shop_product (id, sku, name, description, category_id, price, quantity, created_at, updated_at)"
    f" SELECT i, sku, name, description, category_id, price, quantity, created_at, created_at FROM ({PRODUCT_ROWS}) p",
    "SELECT setval(pg_get_serial_sequence('shop_product', 'id'), %(n)s + 1)",
    "INSERT INTO shop_stockmovement (product_id, delta, quantity_after, reason, created_at)"
    " SELECT id, quantity, quantity, 'initial stock', created_at FROM shop_product",
    """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
        is_active, date_joined) VALUES ('!', true, 'bench', '', '', '', true, true, now())
        ON CONFLICT (username) DO NOTHING""",
    f"""INSERT INTO authtoken_token (key, created, user_id) SELECT '{TOKEN}', now(), id FROM auth_user
        WHERE username = 'bench' ON CONFLICT DO NOTHING""",
]


def database_url(kind, size):
    return f"{SERVER_URL}/bench_{kind}_{size}"


@contextmanager
def connect(url):
    """Yield an autocommit connection and close it (psycopg2's own ``with`` opens a transaction)."""
    connection = psycopg2.connect(url)
    connection.autocommit = True
    try:
        yield connection
    finally:
        connection.close()


def scalar(url, sql, params=()):
    with connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def ensure_database(name):
    with connect(f"{SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')


def drop_database(cursor, name):
    """Drop database ``name`` if it exists, and the replication slots a worker left on it (they block the drop)."""
    cursor.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = %s", [name])
    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_database(template, name, attempts=20):
    """Drop ``name`` and create it again as a copy of ``template`` (which must have no other sessions)."""
    with connect(f"{SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        drop_database(cursor, name)
        for attempt in range(attempts):
            try:
                # Seeding's and vacuum's sessions on the template may take a moment to close.
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                return
            except psycopg2.Error:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.5)


def service_env(size):
    return {
        **os.environ,
        "DATABASE_URL": database_url("service", size),
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "SECURE_SSL_REDIRECT": "false",
        "THROTTLE_ANON_RATE": "off",
        "THROTTLE_USER_RATE": "off",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "cqrs_demo.settings.base",
    }


def baseline_env(size):
    return {
        **os.environ,
        "BASELINE_DATABASE_URL": database_url("baseline", size),
        "DJANGO_SETTINGS_MODULE": "bench.baseline.settings",
    }


def _run_sql(url, statements, size, log):
    with connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("BEGIN")
        for sql in statements:
            started = time.perf_counter()
            cursor.execute(sql, {"n": size})
            log(f"    {time.perf_counter() - started:7.1f}s  {' '.join(sql.split())[:70]}")
        cursor.execute("COMMIT")


def _count(url, table):
    try:
        return scalar(url, f"SELECT count(*) FROM {table}")
    except psycopg2.Error:
        return -1


def ensure_seeded(size, log=print, force=False):
    """Create, migrate and fill both databases of ``size`` unless they already hold it."""
    timings = {}
    service, baseline = database_url("service", size), database_url("baseline", size)
    for name in (f"bench_service_{size}", f"bench_baseline_{size}"):
        ensure_database(name)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=service_env(size), check=True)
    subprocess.run(
        [PYTHON, "-m", "django", "migrate", "--noinput", "-v0"], cwd=ROOT, env=baseline_env(size), check=True
    )
    if force or not (_count(service, "products_product") == _count(service, "read_product") == size):
        log(f"  seeding the service's write tables with {size:,} products")
        started = time.perf_counter()
        _run_sql(service, SERVICE_SEED, size, log)
        timings["service_write_seed_s"] = time.perf_counter() - started
        log("  filling the read tables with rebuild.rebuild_all()")
        timings["service_first_rebuild"] = time_rebuild(size, with_bare=False)
        vacuum(service)
    else:
        log(f"  bench_service_{size} already holds {size:,} products")
    if force or _count(baseline, "shop_product") != size:
        log(f"  seeding the baseline's tables with {size:,} products")
        started = time.perf_counter()
        _run_sql(baseline, BASELINE_SEED, size, log)
        timings["baseline_seed_s"] = time.perf_counter() - started
        vacuum(baseline)
    else:
        log(f"  bench_baseline_{size} already holds {size:,} products")
    if timings:
        SEED_LOG.parent.mkdir(exist_ok=True)
        SEED_LOG.with_name(f"seed-{size}.json").write_text(json.dumps(timings) + "\n")
    return timings


def last_seed_timings(size):
    """Return the timings recorded when ``size`` was last seeded, or None."""
    path = SEED_LOG.with_name(f"seed-{size}.json")
    return json.loads(path.read_text()) if path.exists() else None


def vacuum(url):
    with connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def time_rebuild(size, with_bare=True, with_rebuild=True, with_delete=False):
    """Time rebuild_all() and a bare INSERT ... SELECT of the same rows in a Django subprocess.

    ``with_delete`` also times the rebuild it replaced (DELETE, then INSERT ... ON CONFLICT
    into the indexed tables, in one transaction), for a comparison in the same run.
    """
    command = [PYTHON, "-m", "bench.seed", "time-rebuild"]
    command += ([] if with_bare else ["--no-bare"]) + ([] if with_rebuild else ["--no-rebuild"])
    command += ["--delete"] if with_delete else []
    output = subprocess.run(command, cwd=ROOT, env=service_env(size), check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def _time_rebuild_here(with_bare, with_rebuild, with_delete):
    import django

    django.setup()
    from django.db import connection, transaction

    from products.read import rebuild
    from products.read.rebuild import project
    from products.read.tables import READ_TABLES

    result = {}
    if with_delete:
        started = time.perf_counter()
        with transaction.atomic():
            rebuild.clear()
            for table in READ_TABLES:
                project(table)
        result["delete_rebuild_s"] = time.perf_counter() - started
    if with_rebuild:
        started = time.perf_counter()
        result["rebuild_counts"] = rebuild.rebuild_all()
        result["rebuild_s"] = time.perf_counter() - started
    if with_bare:
        # The same rows into empty copies of the read tables, no DELETE, no ON CONFLICT: once
        # with the same indexes, once with none (what writing the rows costs at the least).
        # Rolled back afterwards.
        copies = {table.name: table.expected_sql() for table in READ_TABLES}
        columns = {table.name: ", ".join(table.column_names) for table in READ_TABLES}
        for label, like in (("bare_insert_s", "INCLUDING ALL"), ("bare_insert_no_index_s", "INCLUDING DEFAULTS")):
            with transaction.atomic(), connection.cursor() as cursor:
                for table in copies:
                    cursor.execute(f"CREATE TABLE bench_bare_{table} (LIKE {table} {like})")
                started = time.perf_counter()
                for table, select in copies.items():
                    cursor.execute(f"INSERT INTO bench_bare_{table} ({columns[table]}) {select}")
                result[label] = time.perf_counter() - started
                transaction.set_rollback(True)
    print(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1:2] == ["time-rebuild"]:
        _time_rebuild_here(
            with_bare="--no-bare" not in sys.argv,
            with_rebuild="--no-rebuild" not in sys.argv,
            with_delete="--delete" in sys.argv,
        )
    else:
        sizes = [int(value) for value in (sys.argv[1:] or ["10000"])]
        for size in sizes:
            print(json.dumps(ensure_seeded(size, force="--force" in sys.argv)))
