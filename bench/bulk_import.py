"""Measure `import_products --bulk`: products/s and peak memory at 100,000 rows and at N.

    .venv/bin/python -m bench.bulk_import [--rows 1000000] [--small 100000] [--split]

For each size: a fresh database of its own (bench_bulk_import_<pid>) on the local PostgreSQL
(BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432), migrated; a generated CSV
of that many new products in 20 categories (bench/.data/bulk-<n>.csv); the import run in a
fresh process, timed, with its peak RSS; then the same file imported again (nothing may
change). The database is dropped at the end. Writes bench/results/<date>-bulk-import.md.

At the small size, the seed's shape too (bench/.data/bulk-seed-<n>.csv): the same products,
each with a row at main and, as ``seed_products`` makes them, a third with one more at east
and a quarter at west (a StockSet and a ledger row each), in a database where those
locations exist; its time per product is given as a ratio to the one-location import of the
same products in the same run. Then, in the same run, its floor (``FLOOR_WRITE``, then with
``FLOOR_READ``): the same write rows by plain INSERT ... SELECT after COPY, with no checks,
events or read rows; then with an event per product and stock row and the read rows as plain
INSERTs; the import's time is given as a ratio to each.

With ``--split`` each size is also run in split mode (READ_DATABASE_URL: a second database):
the import then writes the write tables and the log only, and ``project_events`` (timed on
its own, up to ``--project-up-to`` rows) applies the log to the read database afterwards, as
the worker would.
"""

import argparse
import csv
import datetime
import json
import os
import random
import subprocess
import sys
import time

import psycopg2

from bench import seed

DATABASE = f"bench_bulk_import_{os.getpid()}"  # its own: other benchmarks may share the server

# The locations the seed's shape puts stock at besides main, with how often (as seed_products).
SEED_LOCATIONS = {"east": 3, "west": 4}

_PROBE = """
import json, resource, sys, time
import django
django.setup()
from django.core.management import call_command
from cqrs_demo.bus import bus
from products.write import commands
from products.write.models import EventRecord, Location, Product, StockMovement
for code in sys.argv[2:]:
    if not Location.objects.filter(code=code).exists():
        bus.dispatch(commands.CreateLocation(code=code, name=code.title()))
started = time.perf_counter()
call_command("import_products", sys.argv[1], "--bulk")
seconds = time.perf_counter() - started
print(json.dumps({"peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "seconds": round(seconds, 2), "products": Product.objects.count(),
                  "events": EventRecord.objects.count(), "movements": StockMovement.objects.count()}))
"""


# The floor: the same rows with no command around them, in one transaction: COPY into a TEMP
# table, then plain INSERT ... SELECTs of the write rows the import writes (each product, its
# stock at each location, a ledger row each, with the tables' keys, indexes and deferred
# foreign keys, checked at COMMIT), with no checks, events or read rows; then ("+ log and
# read rows") an event per product and per stock row with the payload ``{}``, and the read rows
# as plain INSERTs. Product ids are time-ordered, as the import's are.
FLOOR_WRITE = [
    """CREATE TEMP TABLE floor_row (line serial, sku text, name text, description text, category text,
                                    category_name text, price numeric(10, 2), quantity integer, location text)""",
    "COPY floor_row (sku, name, description, category, category_name, price, quantity, location) FROM STDIN CSV HEADER",
    """INSERT INTO products_category (slug, name, created_at, updated_at)
       SELECT DISTINCT category, category_name, now(), now() FROM floor_row""",
    """CREATE TEMP TABLE floor_product AS
       SELECT DISTINCT ON (sku) sku, name, description, category, price,
              (lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint), 12, '0') || '7'
               || lpad(to_hex((line >> 14) & 4095), 3, '0') || to_hex(8 | ((line >> 12) & 3))
               || lpad(to_hex(line & 4095), 3, '0') || right(gen_random_uuid()::text, 12))::uuid AS id
         FROM floor_row ORDER BY sku, line""",
    """INSERT INTO products_product (id, sku, name, description, category_id, price, reorder_point, version,
                                     is_archived, created_at, updated_at)
       SELECT f.id, f.sku, f.name, f.description, c.id, f.price, 0, 1, false, now(), now()
         FROM floor_product f JOIN products_category c ON c.slug = f.category ORDER BY f.id""",
    """CREATE TEMP TABLE floor_stock AS
       SELECT p.id AS product_id, l.id AS location_id, l.code AS location, coalesce(r.quantity, 0) AS quantity, r.line
         FROM floor_row r JOIN floor_product p USING (sku) JOIN products_location l ON l.code = r.location""",
    """INSERT INTO products_stocklevel (product_id, location_id, quantity)
       SELECT product_id, location_id, quantity FROM floor_stock ORDER BY line""",
    """INSERT INTO products_stockmovement (product_id, location_id, delta, quantity_after, reason, created_at)
       SELECT product_id, location_id, quantity, quantity, 'import', now() FROM floor_stock ORDER BY line""",
]
FLOOR_READ = [
    """INSERT INTO products_event (type, product_id, payload, created_at)
       SELECT 'ProductCreated', id, '{}', now() FROM floor_product ORDER BY id""",
    """INSERT INTO products_event (type, product_id, payload, created_at)
       SELECT 'StockSet', product_id, '{}', now() FROM floor_stock ORDER BY line""",
    """INSERT INTO read_product (id, sku, name, description, category_slug, category_name, price, quantity,
                                 reorder_point, version, created_at, updated_at)
       SELECT f.id, f.sku, f.name, f.description, f.category, f.category, f.price, s.quantity, 0, 1, now(), now()
         FROM floor_product f JOIN (SELECT product_id, sum(quantity) AS quantity FROM floor_stock
                                     GROUP BY product_id) s ON s.product_id = f.id
        ORDER BY f.id""",
    """INSERT INTO read_product_search (id, search_document)
       SELECT id, to_tsvector('simple', translate(sku || ' ' || name || ' ' || description, '-._/', '    '))
         FROM floor_product ORDER BY id""",
    """INSERT INTO read_stock_level (key, product_id, location, quantity)
       SELECT product_id::text || ':' || location, product_id, location, quantity FROM floor_stock ORDER BY line""",
    """INSERT INTO read_stock_movement (id, product_id, location, delta, quantity_after, reason, created_at)
       SELECT m.id, m.product_id, s.location, m.delta, m.quantity_after, m.reason, m.created_at
         FROM products_stockmovement m JOIN floor_stock s USING (product_id, location_id) ORDER BY m.id""",
]


def _admin(sql):
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        cursor.execute(sql)


def _drop(name):
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        seed.drop_database(cursor, name)


def write_csv(path, rows, locations=None, prefix="BULK"):
    """Write ``rows`` generated products, streamed (tool-shop names, 20 categories, some empty quantities),
    their SKUs ``<prefix>-<number>``.

    With ``locations`` (``{code: every}``), a ``location`` column: each product's row at main,
    then, for one product in ``every``, a row at ``code`` too (the same products otherwise).
    """
    rng = random.Random(rows)
    extra = random.Random(-rows)  # its own stream: the products stay those of the one-location file
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        header = ["sku", "name", "description", "category", "category_name", "price", "quantity"]
        writer.writerow([*header, "location"] if locations else header)
        for number in range(1, rows + 1):
            category = seed.CATEGORIES[number % len(seed.CATEGORIES)]
            adjective, material, noun = rng.choice(seed.ADJECTIVES), rng.choice(seed.MATERIALS), rng.choice(seed.NOUNS)
            row = [
                f"{prefix}-{number:08d}",
                f"{adjective} {material} {noun} {number % 1000}",
                f"A {adjective.lower()} {noun} made of {material} for {rng.choice(seed.USES)}.",
                category.lower().replace(" ", "-"),
                category,
                f"{rng.randint(99, 99999) / 100:.2f}",
                rng.choice(("", "0", "5", "12", "40", "250")),
            ]
            if not locations:
                writer.writerow(row)
                continue
            writer.writerow([*row, "main"])
            for code, every in locations.items():
                if extra.randrange(every) == 0:
                    writer.writerow([*row[:-1], extra.choice(("5", "10", "25", "50")), code])


def _import(path, env, locations=()):
    result = subprocess.run(
        [seed.PYTHON, "-c", _PROBE, str(path), *locations],
        cwd=seed.ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _manage(env, *arguments):
    started = time.perf_counter()
    subprocess.run([seed.PYTHON, "manage.py", *arguments], cwd=seed.ROOT, env=env, check=True, capture_output=True)
    return round(time.perf_counter() - started, 2)


def measure(rows, split=False, project=True, locations=None):
    """Import a fresh CSV of ``rows`` products into an empty database, then again; return both runs.

    ``locations``: the seed's shape (see write_csv), those locations created first.
    """
    path = seed.ROOT / "bench" / ".data" / f"bulk-{'seed-' if locations else ''}{rows}.csv"
    path.parent.mkdir(exist_ok=True)
    if not path.exists():
        write_csv(path, rows, locations)
    databases = [DATABASE, f"{DATABASE}_read"] if split else [DATABASE]
    for name in databases:
        _drop(name)
        _admin(f'CREATE DATABASE "{name}"')
    env = {**seed.service_env(rows), "DATABASE_URL": f"{seed.SERVER_URL}/{DATABASE}"}
    if split:
        env["READ_DATABASE_URL"] = f"{seed.SERVER_URL}/{DATABASE}_read"
    projected = None
    try:
        _manage(env, "migrate", "-v0")
        if split:
            _manage(env, "migrate", "--database", "read", "-v0")
        first = _import(path, env, locations or ())
        if split and project:
            projected = _manage(env, "project_events")
        again = _import(path, env)
    finally:
        for name in databases:
            _drop(name)
    if first["products"] != rows or again["events"] != first["events"] or again["movements"] != first["movements"]:
        raise SystemExit(f"unexpected counts: {first} then {again}")
    return {
        "rows": rows,
        "locations": bool(locations),
        "split": split,
        "first": first,
        "again": again,
        "rate": rows / first["seconds"],
        "projected": projected,
    }


def measure_floor(rows, locations, read):
    """Time the floor statements (FLOOR_WRITE, and FLOOR_READ with ``read``) over the seed-shape CSV."""
    path = seed.ROOT / "bench" / ".data" / f"bulk-seed-{rows}.csv"
    path.parent.mkdir(exist_ok=True)
    if not path.exists():
        write_csv(path, rows, locations)
    _admin(f'DROP DATABASE IF EXISTS "{DATABASE}"')
    _admin(f'CREATE DATABASE "{DATABASE}"')
    env = {**seed.service_env(rows), "DATABASE_URL": f"{seed.SERVER_URL}/{DATABASE}"}
    try:
        _manage(env, "migrate", "-v0")
        url = f"{seed.SERVER_URL}/{DATABASE}"
        with seed.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO products_location (code, name, is_active, created_at, updated_at)"
                " SELECT code, code, true, now(), now() FROM unnest(%s::text[]) code ON CONFLICT DO NOTHING",
                [list(locations)],
            )
        connection = psycopg2.connect(url)
        try:
            started = time.perf_counter()
            with connection.cursor() as cursor, path.open(encoding="utf-8") as data:
                for statement in FLOOR_WRITE + (FLOOR_READ if read else []):
                    if statement.startswith("COPY"):
                        cursor.copy_expert(statement, data)
                    else:
                        cursor.execute(statement)
            connection.commit()
            seconds = time.perf_counter() - started
        finally:
            connection.close()
        products = seed.scalar(url, "SELECT count(*) FROM products_product")
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{DATABASE}"')
    if products != rows:
        raise SystemExit(f"floor: {products} products, not {rows}")
    return round(seconds, 2)


def _mode(result):
    if result["locations"]:
        return "single database, at main + east/west"
    return "split" if result["split"] else "single database"


def _projection(result):
    if not result["split"]:
        return "(in the import)"
    return "(not run)" if result["projected"] is None else result["projected"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="the size the peak memory is compared with")
    parser.add_argument("--split", action="store_true", help="also measure with a separate read database")
    parser.add_argument(
        "--project-up-to", type=int, default=100_000, help="split mode: time project_events up to this many rows"
    )
    options = parser.parse_args(argv)
    load_before = os.getloadavg()
    sizes = sorted({options.small, options.rows})
    results = [measure(size) for size in sizes]
    # Right after the one-location import of the same products, so both see the host alike.
    several = measure(options.small, locations=SEED_LOCATIONS)
    floors = {read: measure_floor(options.small, SEED_LOCATIONS, read) for read in (False, True)}
    split_results = [
        measure(size, split=True, project=size <= options.project_up_to) for size in sizes if options.split
    ]
    load_after = os.getloadavg()
    small, large = results[0], results[-1]
    now = datetime.datetime.now(datetime.UTC)
    server = seed.scalar(f"{seed.SERVER_URL}/postgres", "SHOW server_version")
    lines = [
        f"# import_products --bulk, {now:%Y-%m-%d %H:%M} UTC\n",
        f"Machine: {os.cpu_count()} cores, shared with other work; PostgreSQL {server} on 127.0.0.1.",
        f"Load average (1, 5, 15 min): {' / '.join(f'{v:.2f}' for v in load_before)} before,"
        f" {' / '.join(f'{v:.2f}' for v in load_after)} after.\n",
        "| mode | products | seconds | products/s | peak RSS MiB | again: seconds (nothing changes) | events |"
        " ledger rows | project_events: seconds |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {_mode(r)} | {r['rows']:,} | {r['first']['seconds']} |"
            f" {r['rate']:,.0f} | {r['first']['peak_rss_mib']} | {r['again']['seconds']} | {r['first']['events']:,} |"
            f" {r['first']['movements']:,} | {_projection(r)} |"
            for r in [*results, several, *split_results]
        ),
        "",
        f"Several locations (the seed's shape) at {small['rows']:,} products:"
        f" {small['rate'] / several['rate']:.2f}x the time per product of one location, same run"
        f" ({several['first']['movements'] - small['first']['movements']:,} more ledger rows and StockSet events).",
        f"Floor of the seed's shape at {small['rows']:,} products, same run: the same write rows by plain"
        f" INSERT ... SELECT after COPY (no checks, events or read rows) in {floors[False]} s"
        f" ({small['rows'] / floors[False]:,.0f} products/s; the import takes"
        f" {several['first']['seconds'] / floors[False]:.1f}x);"
        f" with an event per product and stock row (payload {{}}) and the read rows as plain INSERTs,"
        f" {floors[True]} s ({small['rows'] / floors[True]:,.0f} products/s; the import takes"
        f" {several['first']['seconds'] / floors[True]:.1f}x).",
        f"Peak RSS at {large['rows']:,} vs {small['rows']:,}: "
        f"{large['first']['peak_rss_mib'] / small['first']['peak_rss_mib']:.2f}x (the file is streamed into COPY).",
        "Targets: >= 10,000 products/s at 1,000,000 rows; peak memory flat in the row count.",
        "Each run: a fresh empty database, migrated; one process per import; every product new, with",
        "a category (20, created by the import), its stock, an opening ledger row, a ProductCreated event",
        "and its read rows (the seed's shape: then a StockSet and a ledger row per other location it is at).",
        "The second import of the same file must write nothing.",
    ]
    seed.RESULTS.mkdir(parents=True, exist_ok=True)
    path = seed.RESULTS / f"{now:%Y-%m-%d}-bulk-import.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
