"""Measure split mode's projection lag: from a write's commit to its visibility in the read store.

    .venv/bin/python -m bench.projection_lag [--seconds 15] [--clients 16]

Starts, on fresh databases of the local PostgreSQL (BENCH_POSTGRES_URL): the API in split
mode (gunicorn, 2 workers) and the projector worker (`project_events --follow`). Then
``--clients`` threads adjust the stock of one hot product as fast as they can, while a
probe thread reads that product's row straight from the read database in a tight loop. For every
accepted adjustment the lag is the time from its response (the commit) to the first probe
that sees its version or a later one. Prints p50/p99 and appends a table to
bench/results/<date>-projection-lag.md.
"""

import argparse
import datetime
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

from bench import seed

ROOT = seed.ROOT
RESULTS = seed.RESULTS
DATABASES = ("bench_lag_write", "bench_lag_read")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment():
    env = seed.service_env(0)
    env["DATABASE_URL"] = f"{seed.SERVER_URL}/{DATABASES[0]}"
    env["READ_DATABASE_URL"] = f"{seed.SERVER_URL}/{DATABASES[1]}"
    return env


def _manage(env, *args):
    subprocess.run([seed.PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _prepare(env):
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        for name in DATABASES:
            seed.drop_database(cursor, name)
            cursor.execute(f'CREATE DATABASE "{name}"')
    _manage(env, "migrate", "--noinput")
    _manage(env, "migrate", "--noinput", "--database", "read")
    script = (
        "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token;"
        "u = User.objects.create_superuser('bench', 'b@example.com', 'pw');"
        f"Token.objects.create(user=u, key='{seed.TOKEN}')"
    )
    _manage(env, "shell", "-c", script)


class _Client:
    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None):
        headers = {"Authorization": f"Token {seed.TOKEN}", "Content-Type": "application/json"}
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read() or b"null")


def _wait_for(port, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if _Client(port).request("GET", "/health/live")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the API did not start")


def measure(seconds, clients):
    env = _environment()
    _prepare(env)
    port = _free_port()
    api = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            "bench/gunicorn_bench.py",
            "-b",
            f"127.0.0.1:{port}",
            "cqrs_demo.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
    )
    worker = subprocess.Popen(
        [seed.PYTHON, "manage.py", "project_events", "--follow", "--poll-interval", "0.005"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for(port)
        status, product = _Client(port).request(
            "POST", "/api/products/", {"sku": "HOT-1", "name": "Hot product", "price": "1.00", "initial_stock": 0}
        )
        assert status == 201, product
        probe = LagProbe(port, product["id"], env["READ_DATABASE_URL"], writers=clients)
        probe.start()
        time.sleep(seconds)
        probe.stop()
    finally:
        for process in (api, worker):
            process.send_signal(signal.SIGTERM)
        for process in (api, worker):
            process.wait(timeout=30)
        # The worker's slot would keep the server's WAL from now on: the next run starts afresh.
        _manage(env, "drop_feed_slot")
    return probe.result(seconds)


class LagProbe:
    """Writers adjusting one product's stock through the API, and a reader watching the read store.

    For every accepted adjustment the lag is the time from its response (the commit) to the
    first read of the product's row in the read database that shows its version or a later one.
    bench/write.py runs one writer on a product of its own beside a wrk load.
    """

    def __init__(self, port, product_id, read_url, writers=1):
        self.port, self.product_id, self.read_url = port, product_id, read_url
        self.committed = {}  # version -> monotonic time of the response
        self.seen = []  # (monotonic time, version seen in the read store)
        self.stop_writers, self.stop_probe = threading.Event(), threading.Event()
        self.writers = [threading.Thread(target=self._write) for _ in range(writers)]
        self.probe = threading.Thread(target=self._probe)

    def _write(self):
        client = _Client(self.port)
        path = f"/api/products/{self.product_id}/stock/"
        while not self.stop_writers.is_set():
            status, body = client.request("POST", path, {"delta": 1})
            if status == 200:
                self.committed[body["version"]] = time.monotonic()

    def _probe(self):
        # Straight to the read database: a probe through the busy API would wait its turn
        # behind the writers and measure the queue, not the projector.
        with seed.connect(self.read_url) as connection, connection.cursor() as cursor:
            while not self.stop_probe.is_set():
                cursor.execute("SELECT version FROM read_product WHERE id = %s", [self.product_id])
                row = cursor.fetchone()
                if row:
                    self.seen.append((time.monotonic(), row[0]))
                time.sleep(0.0005)

    def start(self):
        for thread in [*self.writers, self.probe]:
            thread.start()

    def stop(self):
        self.stop_writers.set()
        for thread in self.writers:
            thread.join()
        time.sleep(1)  # the probe goes on while the worker drains the last writes
        self.stop_probe.set()
        self.probe.join()

    def result(self, seconds):
        lags, index = [], 0
        for version, at in sorted(self.committed.items()):
            while index < len(self.seen) and (self.seen[index][1] < version or self.seen[index][0] < at):
                index += 1
            if index < len(self.seen):
                lags.append((self.seen[index][0] - at) * 1000)
        lags.sort()
        # Inclusive: with few writes (the write bench has ~100) the default method extrapolates past the max.
        quantiles = statistics.quantiles(lags, n=100, method="inclusive") if len(lags) > 1 else lags * 99
        return {
            "writes": len(self.committed),
            "writes_per_second": round(len(self.committed) / seconds, 1),
            "probes": len(self.seen),
            "probe_interval_ms": round(seconds * 1000 / max(len(self.seen), 1), 2),
            "lag_p50_ms": round(quantiles[49], 1) if lags else None,
            "lag_p99_ms": round(quantiles[98], 1) if lags else None,
            "lag_max_ms": round(lags[-1], 1) if lags else None,
        }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args(argv)
    result = measure(args.seconds, args.clients)
    print(json.dumps(result, indent=2))
    now = datetime.datetime.now(datetime.UTC)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{now:%Y-%m-%d}-projection-lag.md"
    load = os.getloadavg()
    out.write_text(
        f"# Projection lag in split mode, {now:%Y-%m-%d %H:%M} UTC\n\n"
        f"{args.clients} clients adjusting one hot product for {args.seconds:g} s against the split-mode API "
        "(gunicorn, 2 sync workers), `project_events --follow --poll-interval 0.005` running beside it; a probe "
        "reads the product's row straight from the read database in a loop. Lag = first probe showing the version (or "
        f"a later one) minus the write's response time. Machine: {os.cpu_count()} cores, load average "
        f"{load[0]:.2f} at the end (shared machine).\n\n"
        "| accepted writes | writes/s | probes (every ms) | lag p50 ms | lag p99 ms | lag max ms |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: |\n"
        f"| {result['writes']} | {result['writes_per_second']} | {result['probes']} ({result['probe_interval_ms']}) "
        f"| {result['lag_p50_ms']} | {result['lag_p99_ms']} | {result['lag_max_ms']} |\n"
    )
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
