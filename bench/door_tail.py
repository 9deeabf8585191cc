"""Where a door check-in's slow tail comes from, measured in one process.

    .venv/bin/python bench/door_tail.py --requests 3000 --log-rows 1000000

The open-loop figure of bench/checkin.py mixes queueing in the server with the time a
request itself takes. This runs check-ins one after another through the real
middleware, authentication and view (Django's test client, no network), timing each,
and records what happened during each one: garbage collections (``gc.callbacks``,
with their generation and pause), configuration reloads of ``access.cache`` (its
per-worker TTL), and the SQL statements run. It prints the latency percentiles and,
for the slowest 1 %, what they had in common; then the same with ``gc.freeze()``
after warm-up (what a gunicorn worker gets from ``gymsite/gunicorn.conf.py``'s
``post_worker_init``), so the two can be compared in one run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.checkin import DEVICES, fill_access_log, setup_data


class Recorder:
    def __init__(self):
        self.gc_pauses: list[tuple[int, float]] = []
        self._started = 0.0
        self.reloads = 0

    def on_gc(self, phase, info):
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.gc_pauses.append((info["generation"], time.perf_counter() - self._started))

    def take(self):
        pauses, self.gc_pauses = self.gc_pauses, []
        reloads, self.reloads = self.reloads, 0
        return pauses, reloads


def run(client, keys, cards, count, tag, recorder):
    from django.db import connection

    rows = []
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    for i in range(count):
        body = {"credential": cards[(i * 7919) % len(cards)], "request_id": f"{tag}-{i}"}
        statements[0] = 0
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = client.post(
                "/api/v1/access/checkin",
                body,
                format="json",
                HTTP_AUTHORIZATION=f"Device {keys[i % len(keys)]}",
            )
        elapsed = time.perf_counter() - started
        assert response.status_code in (200, 201), response.content[:200]
        pauses, reloads = recorder.take()
        rows.append(
            {
                "ms": elapsed * 1000,
                "gc": pauses,
                "reloads": reloads,
                "queries": statements[0],
            }
        )
    return rows


def report(label, rows):
    times = sorted(row["ms"] for row in rows)

    def pct(p):
        return times[min(len(times) - 1, int(len(times) * p / 100))]

    print(f"{label}: {len(rows)} check-ins")
    print(
        f"  p50 {pct(50):.2f} ms, p90 {pct(90):.2f}, p99 {pct(99):.2f}, max {times[-1]:.2f}"
        f" (mean {statistics.mean(times):.2f})"
    )
    cut = pct(99)
    slow = [row for row in rows if row["ms"] >= cut]
    rest = [row for row in rows if row["ms"] < cut]
    gen2 = sum(1 for row in slow if any(g == 2 for g, _ in row["gc"]))
    anygc = sum(1 for row in slow if row["gc"])
    reload = sum(1 for row in slow if row["reloads"])
    print(
        f"  slowest 1% ({len(slow)}): {anygc} had a collection ({gen2} a full one), "
        f"{reload} a config reload; queries {Counter(r['queries'] for r in slow)}"
    )
    pauses = [ms for row in rows for g, ms in row["gc"] if g == 2]
    if pauses:
        print(
            f"  full collections: {len(pauses)}, pause median "
            f"{statistics.median(pauses) * 1000:.1f} ms, max {max(pauses) * 1000:.1f} ms"
        )
    if rest:
        print(f"  the other 99%: queries {Counter(r['queries'] for r in rest).most_common(3)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--log-rows", type=int, default=1_000_000)
    args = parser.parse_args()

    database_url = harness.bench_database_url()
    harness.prepare_database(database_url)
    harness.django_setup(database_url)
    from django.conf import settings
    from rest_framework.test import APIClient

    from access import cache as access_cache

    keys, cards = setup_data(DEVICES)
    fill_access_log(database_url, args.log_rows)
    settings.ALLOWED_HOSTS = ["*"]

    recorder = Recorder()
    loader_cached = access_cache.cached

    def counting(key, loader, ttl=access_cache.CONFIG_TTL):
        def load():
            recorder.reloads += 1
            return loader()

        return loader_cached(key, load, ttl)

    access_cache.cached = counting
    gc.callbacks.append(recorder.on_gc)
    client = APIClient()
    tag = f"t{int(time.time())}"
    run(client, keys, cards, 300, f"{tag}-warm", recorder)
    report("as a worker runs today", run(client, keys, cards, args.requests, f"{tag}-a", recorder))
    gc.collect()
    gc.freeze()
    report(
        "after gc.freeze() of everything loaded",
        run(client, keys, cards, args.requests, f"{tag}-b", recorder),
    )


if __name__ == "__main__":
    main()
