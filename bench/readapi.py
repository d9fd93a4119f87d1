"""The read API against the Django API, two bare-SQL floors and a bare FastAPI+asyncpg endpoint, in one run.

    .venv/bin/python -m bench.readapi                      # 100,000 products, 10 s per run, 2 rounds
    .venv/bin/python -m bench.readapi --size 2000 --duration 1 --warmup 0 --rounds 1   # the CI smoke

Five servers on the same seeded database, each gunicorn with 2 workers (bench/gunicorn_bench.py):
the Django API (sync workers, cqrs_demo.wsgi), the Django view floor (sync workers, the service's
Django process with bench/django_view.py's bare-SQL views on the list's and detail's routes: the
issue's "bare-SQL Django view doing the same query"), the floor (sync workers, bench/floor.py: a
bare WSGI function, its own SQL over psycopg2 and json.dumps, no framework), the read API (uvicorn
workers, products.readapi) and the bare ASGI endpoint (uvicorn workers, bench/bare_asgi.py: the
read API's own SQL, nothing else). Each scenario (product detail, random of 1,000; the list's
first page of 20) loads the five in turn,
in reverse order on even rounds, and keeps each server's best round. The load average before
each run is printed with it and saved; ratios are what to read on a shared machine.
"""

import argparse
import datetime
import json
import os
import subprocess

from bench import seed
from bench.run import BENCH, DATA, GUNICORN, RESULTS, ROOT, Server, detail_paths, load_average, log, require_wrk
from bench.run import run_wrk as wrk

SCENARIOS = {"detail": "product detail (random of 1,000)", "list": "list, first page of 20"}
NAMES = ("django", "django_view", "floor", "readapi", "bare")
ASGI_WORKER = "uvicorn.workers.UvicornWorker"


def servers_for(size):
    """Return {name: (port, application, worker class, environment)}."""
    service = seed.service_env(size)
    url = seed.database_url("service", size)
    return {
        "django": (9111, "cqrs_demo.wsgi:application", None, service),
        "django_view": (
            9112,
            "cqrs_demo.wsgi:application",
            None,
            {**service, "DJANGO_SETTINGS_MODULE": "bench.django_view_settings"},
        ),
        "floor": (9113, "bench.floor:application", None, {**os.environ, "FLOOR_DATABASE_URL": url}),
        "readapi": (9114, "products.readapi.app:create_app()", ASGI_WORKER, service),
        "bare": (9115, "bench.bare_asgi:app", ASGI_WORKER, {**os.environ, "BARE_DATABASE_URL": url}),
    }


class BenchServer(Server):
    """bench.run's server, with any application and worker class."""

    def __init__(self, name, size, port, app, worker_class, env):
        self.name, self.port, self.app = name, port, app
        self.base = f"http://127.0.0.1:{port}"
        env = {key: value for key, value in env.items() if key != "GUNICORN_CMD_ARGS"}
        DATA.mkdir(exist_ok=True)
        self.log_path = DATA / f"readapi-{name}-{size}.log"
        command = [GUNICORN, "-c", str(BENCH / "gunicorn_bench.py"), "-b", f"127.0.0.1:{port}"]
        if worker_class:
            command += ["--worker-class", worker_class]
        self.process = subprocess.Popen(
            [*command, app], cwd=ROOT, env=env, stdout=self.log_path.open("w"), stderr=subprocess.STDOUT
        )


def targets(size):
    # The floor and the service share the database, so the same 1,000 products for every server.
    return {"detail": ("/", "get.lua", [str(detail_paths("service", size))]), "list": ("/api/products/", "get.lua", [])}


def run(size, options):
    servers, results = {}, {name: {} for name in NAMES}
    try:
        for name, spec in servers_for(size).items():
            log(f"  starting {name} (gunicorn, 2 workers, 127.0.0.1:{spec[0]})")
            servers[name] = BenchServer(name, size, *spec)
        for server in servers.values():
            server.wait_ready("/api/products/")
        for round_number in range(options.rounds):
            order = NAMES if round_number % 2 == 0 else NAMES[::-1]
            for scenario, (path, script, args) in targets(size).items():
                for name in order:
                    server = servers[name]
                    common = {"threads": options.threads, "connections": options.connections}
                    if options.warmup:
                        wrk(server.base + path, script, args, duration=options.warmup, **common)
                    load = load_average()
                    result = wrk(server.base + path, script, args, duration=options.duration, **common)
                    result["load_before"] = load
                    log(
                        f"    {scenario:7s} {name:8s} {result['rps']:8.1f} req/s  p50 {result['p50_us'] / 1000:6.2f} ms"
                        f"  non-2xx {result['non_2xx']}  errors {result['socket_errors']}  load {load}"
                    )
                    if result["non_2xx"] or not result["requests"]:
                        raise RuntimeError(f"{name} {scenario}: {result['non_2xx']} non-2xx of {result['requests']}")
                    best = results[name].get(scenario)
                    if not best or result["rps"] > best["rps"]:
                        results[name][scenario] = result
    finally:
        for server in servers.values():
            server.stop()
    return results


def render(size, data):
    results = data["results"]
    lines = [
        f"# The read API, the Django API, two floors and a bare ASGI endpoint: {size:,} products, {data['date']}",
        "",
        f"wrk -t{data['options']['threads']} -c{data['options']['connections']} -d{data['options']['duration']}s"
        f" per run after a {data['options']['warmup']}s warm-up, best of {data['options']['rounds']} rounds"
        " (alternating order); gunicorn 2 workers each (sync for Django and the floor, uvicorn for the two ASGI"
        f" apps). Load average before / after: {data['load_before']} / {data['load_after']}.",
        "",
        "Two floors: **Django view** is the issue's floor, a bare-SQL Django view in the service's own Django"
        " process (settings, middleware, URL routing; no DRF; bench/django_view.py); **floor** is a bare WSGI"
        " function with no framework at all (bench/floor.py), the stricter one.",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | load before | / Django view | / floor | / bare ASGI |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for scenario, title in SCENARIOS.items():
        view, floor = results["django_view"][scenario]["rps"], results["floor"][scenario]["rps"]
        bare = results["bare"][scenario]["rps"]
        for name in NAMES:
            result = results[name][scenario]
            latency = f"{result['p50_us'] / 1000:.2f} | {result['p99_us'] / 1000:.2f}"
            lines.append(
                f"| {title} | {name} | {result['rps']:.0f} | {latency} | {result['load_before']}"
                f" | {result['rps'] / view:.2f}x | {result['rps'] / floor:.2f}x | {result['rps'] / bare:.2f}x |"
            )
    lines += ["", "Against the targets:", ""]
    for scenario in SCENARIOS:
        rps = {name: results[name][scenario]["rps"] for name in NAMES}
        for label, value, goal in (
            (f"read API {scenario} / Django view", rps["readapi"] / rps["django_view"], 1.0),
            (f"read API {scenario} / floor", rps["readapi"] / rps["floor"], 1.0),
            (f"read API {scenario} / bare ASGI", rps["readapi"] / rps["bare"], 0.8),
            (f"Django {scenario} / Django view", rps["django"] / rps["django_view"], 0.7),
            (f"Django {scenario} / floor", rps["django"] / rps["floor"], 0.7),
        ):
            lines.append(f"- {label}: {value:.2f}x (target >= {goal}x) {'met' if value >= goal else 'NOT met'}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="products (100000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded load before each run (2)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, in alternating order; the best is kept (2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--label", default="", help="ends the results' file names: <date>-readapi-<size>-<label>")
    options = parser.parse_args(argv)
    require_wrk()
    RESULTS.mkdir(parents=True, exist_ok=True)
    log(f"== {options.size:,} products")
    seed.ensure_seeded(options.size, log=log)
    seed.vacuum(seed.database_url("service", options.size))
    data = {
        "size": options.size,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "options": {k: getattr(options, k) for k in ("threads", "connections", "duration", "warmup", "rounds")},
        "load_before": load_average(),
    }
    data["results"] = run(options.size, options)
    data["load_after"] = load_average()
    markdown = render(options.size, data)
    stem = f"{datetime.date.today().isoformat()}-readapi-{options.size}"
    if options.label:
        stem += f"-{options.label}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(data, indent=1) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown)
    log(markdown)


if __name__ == "__main__":
    main()
