"""Batch adjustments and transfers: the set-based commands vs a stock command per line.

    .venv/bin/python -m bench.batch [--lines 100,1000] [--rounds 5] [--split] [--database NAME]

A fresh database of its own (``bench_batch_<pid>``, or ``--database``; a second one,
``<name>_read``, with ``--split``) on the local PostgreSQL (BENCH_POSTGRES_URL, default
postgres://postgres@127.0.0.1:5432), migrated, with 2,000 products (``BulkImportProducts``,
100 each at ``main``) and a second location ``east``. Then, in one process, for each line
count n, each round:

- batch: one ``AdjustStockBatch`` of n lines, half deltas at ``main``, half recounts at ``east``;
- per line: the same n changes as n ``AdjustStock``/``SetStock`` commands in one transaction,
  as the batch ran them before it was set-based (the baseline);
- transfer: one ``TransferStock`` of n lines from ``main`` to ``east`` (or back);
- per leg: the same as 2n ``AdjustStock`` commands in one transaction (the baseline).

Each time is the command through the bus, from dispatch to commit (in split mode the worker
projects afterwards and is not timed), with the CPU time its PostgreSQL backend and its
Python process spent (less sensitive than the time to what else the machine runs). The
lines alternate between rounds, so the stock stays where it was; one unrecorded round
first. Median over ``--rounds``. The database is dropped at the end. Writes bench/results/<date>-batch.md.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal

from bench import seed
from bench.checkout import cpu_s, used_since

PRODUCTS = 2000


def probe(sizes, rounds):
    """Seed the products, then time each command; return the medians in ms (run in the database's process)."""
    import django

    django.setup()
    from django.db import connection, transaction

    from cqrs_demo.bus import bus
    from products.write import commands
    from products.write.models import Product

    rows = (
        (n, f"BAT-{n:05d}", f"Batch product {n}", "", None, None, Decimal("9.99"), 100) for n in range(1, PRODUCTS + 1)
    )
    bus.dispatch(commands.BulkImportProducts(rows=rows))
    bus.dispatch(commands.CreateLocation(code="east", name="East"))
    ids = list(Product.objects.order_by("sku").values_list("id", flat=True))

    def changes(n, parity):
        # Half deltas at main (+1, then -1 the next round), half recounts at east (5, then 6).
        for k, product_id in enumerate(ids[:n]):
            if k % 2:
                yield {"product_id": product_id, "quantity": 5 + parity, "location": "east"}
            else:
                yield {"product_id": product_id, "delta": 1 - 2 * parity}

    def batch(n, parity):
        lines = tuple(commands.BatchLine(**line) for line in changes(n, parity))
        bus.dispatch(commands.AdjustStockBatch(lines=lines, reason="bench"))

    def per_line(n, parity):
        with transaction.atomic():
            for line in changes(n, parity):
                command = commands.SetStock if "quantity" in line else commands.AdjustStock
                bus.dispatch(command(reason="bench", **line))

    def route(parity):
        return ("main", "east") if parity == 0 else ("east", "main")

    def transfer(n, parity):
        source, target = route(parity)
        lines = tuple(commands.TransferLine(product_id=product_id, quantity=1) for product_id in ids[:n])
        bus.dispatch(commands.TransferStock(from_location=source, to_location=target, lines=lines))

    def per_leg(n, parity):
        source, target = route(parity)
        with transaction.atomic():
            for location, delta in ((source, -1), (target, 1)):
                for product_id in ids[:n]:
                    command = commands.AdjustStock(
                        product_id=product_id, delta=delta, location=location, reason="transfer"
                    )
                    bus.dispatch(command)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pids] = [(cursor.fetchone()[0], os.getpid())]

    results = {}
    for n in sizes:
        for name, run in (("batch", batch), ("per_line", per_line), ("transfer", transfer), ("per_leg", per_leg)):
            times, cpu = [], []
            for number in range(rounds + 1):
                started, used = time.perf_counter(), cpu_s(pids)
                run(n, number % 2)
                if number:  # the first round warms up
                    times.append(time.perf_counter() - started)
                    cpu.append(used_since(used, pids))
            if rounds % 2 == 0:  # an odd number of rounds in all: one more puts the stock back
                run(n, (rounds + 1) % 2)
            results[f"{name}:{n}"] = {
                "ms": round(statistics.median(times) * 1000, 1),
                "cpu_ms": round(statistics.median(cpu) * 1000),
            }
    return results


def _admin(sql):
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        cursor.execute(sql)


def measure(database, sizes, rounds, split):
    """Run the probe on a fresh database (and read database); return its medians in ms."""
    databases = [database, f"{database}_read"] if split else [database]
    for name in databases:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{name}"')
    env = {**seed.service_env(PRODUCTS), "DATABASE_URL": f"{seed.SERVER_URL}/{database}"}
    env.pop("READ_DATABASE_URL", None)
    env.pop("READ_REPLICA_URLS", None)
    if split:
        env["READ_DATABASE_URL"] = f"{seed.SERVER_URL}/{database}_read"

    def run(*arguments):
        return subprocess.run(
            [seed.PYTHON, *arguments], cwd=seed.ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout

    try:
        run("manage.py", "migrate", "-v0")
        if split:
            run("manage.py", "migrate", "--database", "read", "-v0")
        output = run("-m", "bench.batch", "--probe", "--lines", ",".join(map(str, sizes)), "--rounds", str(rounds))
    finally:
        for name in databases:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return json.loads(output.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", default="100,1000", help="line counts (100,1000; at most 1,000, the API's limit)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each command (5)")
    parser.add_argument("--split", action="store_true", help="also measure with a separate read database")
    parser.add_argument("--database", default=f"bench_batch_{os.getpid()}", help="its database (dropped at the end)")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)  # the timed process
    options = parser.parse_args(argv)
    sizes = sorted({int(n) for n in options.lines.split(",")})
    if not all(1 <= n <= 1000 for n in sizes):
        parser.error("--lines: each between 1 and 1,000")
    if options.probe:
        print(json.dumps(probe(sizes, options.rounds)))
        return 0
    load_before = os.getloadavg()
    modes = [("single database", False)] + ([("split", True)] if options.split else [])
    results = {mode: measure(options.database, sizes, options.rounds, split) for mode, split in modes}
    load_after = os.getloadavg()
    now = datetime.datetime.now(datetime.UTC)
    server = seed.scalar(f"{seed.SERVER_URL}/postgres", "SHOW server_version")
    lines = [
        f"# Batch adjustments and transfers, {now:%Y-%m-%d %H:%M} UTC\n",
        f"Machine: {os.cpu_count()} cores, shared with other work; PostgreSQL {server} on 127.0.0.1.",
        f"Load average (1, 5, 15 min): {' / '.join(f'{v:.2f}' for v in load_before)} before,"
        f" {' / '.join(f'{v:.2f}' for v in load_after)} after.",
        f"Median of {options.rounds} rounds: ms from dispatch to commit, and in parentheses the CPU ms spent by"
        f" the PostgreSQL backend and the Python process together; {PRODUCTS:,} products.\n",
        "| mode | lines | batch ms (CPU) | a command per line | per line / batch | transfer ms (CPU)"
        " | a command per leg | per leg / transfer |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, result in results.items():
        for n in sizes:
            row = [f"| {mode} | {n:,}"]
            for one, many in (("batch", "per_line"), ("transfer", "per_leg")):
                one, many = result[f"{one}:{n}"], result[f"{many}:{n}"]
                row += [
                    f"{one['ms']} ({one['cpu_ms']})",
                    f"{many['ms']} ({many['cpu_ms']})",
                    f"{many['ms'] / one['ms']:.1f}x ({many['cpu_ms'] / max(one['cpu_ms'], 1):.1f}x)",
                ]
            lines.append(" | ".join(row) + " |")
    lines += [
        "",
        "Batch: half the lines deltas at main, half recounts at east. Transfer: n lines, main to east or back",
        "(2n ledger rows and events). Target: 1,000 lines in <= 150 ms.",
    ]
    seed.RESULTS.mkdir(parents=True, exist_ok=True)
    path = seed.RESULTS / f"{now:%Y-%m-%d}-batch.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
