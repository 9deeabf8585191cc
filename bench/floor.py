"""The framework floor alone: a trivial authenticated DRF POST inserting one row.

    .venv/bin/python bench/floor.py --clients 50 --requests 3000 --workers 4

Other benchmarks run the same reference in the same run; this one checks the harness.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    database_url = harness.bench_database_url()
    harness.prepare_database(database_url)
    harness.django_setup(database_url)
    user = harness.bench_user()
    token = harness.access_token_for(user)

    with harness.Server(database_url, workers=args.workers):
        harness.run_closed(harness.floor_requests([token] * 200), args.clients)  # warm-up
        result = harness.run_closed(harness.floor_requests([token] * args.requests), args.clients)
    print(result.summary("framework floor"))


if __name__ == "__main__":
    main()
