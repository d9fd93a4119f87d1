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
same products in the same run.

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


def _admin(sql):
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        cursor.execute(sql)


def _drop(name):
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        seed.drop_database(cursor, name)


def write_csv(path, rows, locations=None):
    """Write ``rows`` generated products, streamed (tool-shop names, 20 categories, some empty quantities).

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
                f"BULK-{number:08d}",
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
