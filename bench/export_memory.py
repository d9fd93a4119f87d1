"""Measure `export_products` peak memory at each seeded size: it streams, so it must stay flat.

    .venv/bin/python -m bench.export_memory [--sizes 10000,1000000]

Runs the command in a fresh process per size against bench_service_<size> (seeded by
`bench.run`), reads the process's peak RSS, and writes bench/results/<date>-export-memory.md.
"""

import argparse
import datetime
import json
import subprocess
import sys

from bench import seed

_PROBE = """
import json, resource, sys, time
import django
django.setup()
from django.core.management import call_command
started = time.perf_counter()
call_command("export_products", sys.argv[1])
print(json.dumps({"peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "seconds": round(time.perf_counter() - started, 1)}))
"""


def measure(size):
    out = seed.ROOT / "bench" / ".data" / f"export-{size}.csv"
    out.parent.mkdir(exist_ok=True)
    result = subprocess.run(
        [seed.PYTHON, "-c", _PROBE, str(out)],
        cwd=seed.ROOT,
        env=seed.service_env(size),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,1000000")
    sizes = [int(size) for size in parser.parse_args(argv).sizes.split(",")]
    results = {size: measure(size) for size in sizes}
    smallest = results[sizes[0]]["peak_rss_mib"]
    now = datetime.datetime.now(datetime.UTC)
    lines = [
        f"# export_products peak memory, {now:%Y-%m-%d %H:%M} UTC\n",
        "| products | peak RSS MiB | seconds | peak vs smallest |",
        "| ---: | ---: | ---: | ---: |",
        *(
            f"| {size:,} | {r['peak_rss_mib']} | {r['seconds']} | {r['peak_rss_mib'] / smallest:.2f}x |"
            for size, r in results.items()
        ),
        "",
        "Target: peak at 1M <= 1.2x the peak at 10k (the export streams with a server-side cursor).",
    ]
    seed.RESULTS.mkdir(parents=True, exist_ok=True)
    path = seed.RESULTS / f"{now:%Y-%m-%d}-export-memory.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
