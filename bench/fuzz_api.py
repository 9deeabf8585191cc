"""Fuzz the whole API with schemathesis: no input may get a 5xx.

Every operation of ``/api/v1/schema`` is called with schemathesis' generated cases,
both valid for the schema ("positive") and not ("negative"), as three callers: a
member (JWT), a staff member (the owner, JWT) and a door device (device key). The
app runs in this process through schemathesis' WSGI transport on a dedicated
``<DATABASE_URL's name>_fuzz`` database, migrated and loaded with the demo data
(the fuzzer's writes land there and nowhere else). Prints the cases run per
operation and every server error with its traceback; exits 1 if there was one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/spotter \\
        .venv/bin/python bench/fuzz_api.py --examples 25

``--examples`` is per operation, caller and mode; ``--only <text>`` keeps the
operations whose path contains it; ``--seed`` makes a run repeatable.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402


def fuzz_database_url() -> str:
    base = os.environ.get("DATABASE_URL") or harness.bench_database_url()
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/') or 'spotter'}_fuzz"))


def environment(database_url: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "gymsite.settings",
            # The limits would answer 429 long before the fuzzer is done.
            "API_THROTTLE_USER": "100000000/minute",
            "API_THROTTLE_ANON": "100000000/minute",
            "API_THROTTLE_LOGIN": "100000000/minute",
            "ACCESS_THROTTLE_DEVICE": "off",
            "ACCESS_THROTTLE_ADDRESS": "off",
            "ACCESS_FLAG_FAILURES": "off",
            "AXES_FAILURE_LIMIT": "100000000",
            "EMAIL_URL": "locmem://",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "LOG_LEVEL": "CRITICAL",
        }
    )
    # Local-memory cache and the filesystem broker: the run needs no Redis.
    os.environ.pop("REDIS_URL", None)


def callers() -> dict[str, dict[str, str]]:
    from access import services as access_services
    from accounts.models import Branch, Organisation, User
    from accounts.tenancy import tenant_scope

    organisation = Organisation.objects.get(slug="demo")
    with tenant_scope(organisation):
        member = User.objects.get(email="member@demo.spotter")
        owner = User.objects.get(email="owner@demo.spotter")
        branch = Branch.objects.order_by("pk").first()
        device = access_services.device_register(
            branch=branch, name=f"fuzz {time.time():.0f}", kind="turnstile", direction="both"
        )
    return {
        "member": {"Authorization": f"Bearer {harness.access_token_for(member)}"},
        "staff": {"Authorization": f"Bearer {harness.access_token_for(owner)}"},
        "device": {"Authorization": f"Device {device.key}"},
    }


# Random ids mostly reach 404s; these tables give each ``{id}`` path real rows too
# (one of the demo member's own, where a row has an owner, and the newest of any).
ID_SOURCES = {
    "bookings": ("bookings.Booking", "member"),
    "appointments": ("bookings.Appointment", "member"),
    "classes": ("classes.ClassSession", None),
    "flash-sales": ("inventory.FlashSale", None),
    "invoices": ("billing.Invoice", "payer"),
    "members": ("accounts.Member", "pk"),
    "memberships": ("memberships.Membership", "member"),
    "shop": ("inventory.Order", "member"),
}


def real_ids(path: str) -> list[int]:
    from django.apps import apps

    from accounts.models import Member, Organisation
    from accounts.tenancy import tenant_scope

    if "{id}" not in path:
        return []
    source = ID_SOURCES.get(path.removeprefix("/api/v1/").split("/", 1)[0])
    if source is None:
        return []
    label, owner = source
    model = apps.get_model(label)
    with tenant_scope(Organisation.objects.get(slug="demo")):
        member = Member.objects.get(user__email="member@demo.spotter")
        rows = model.objects.order_by("-pk")
        ids = [rows.values_list("pk", flat=True).first()]
        if owner:
            key = "pk" if owner == "pk" else f"{owner}_id"
            ids.append(rows.filter(**{key: member.pk}).values_list("pk", flat=True).first())
    return sorted({i for i in ids if i is not None})


statuses: Counter[int] = Counter()


def fuzz_one(
    operation,
    mode,
    args,
    label,
    caller,
    headers,
    cases,
    server_errors,
    errors,
    path_parameters=None,
):
    """A Hypothesis test calling one operation as one caller; records 5xx answers."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    @seed(args.seed)
    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        del errors[:]
        response = case.call(headers=headers)
        cases[label] += 1
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            print(f"  5xx: {response.status_code} {label} as {caller}", flush=True)
            server_errors.append(
                (
                    label,
                    caller,
                    response.status_code,
                    case.as_curl_command(headers=headers),
                    "".join(errors) or response.text[:2000],
                )
            )

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=25)
    parser.add_argument("--only", default="")
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args()

    database_url = fuzz_database_url()
    environment(database_url)
    harness.prepare_database(database_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.core.signals import got_request_exception
    from django.core.wsgi import get_wsgi_application
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode, openapi

    call_command("seed_demo", verbosity=0)
    # 4xx answers are logged as warnings by the thousand; 5xx are caught below.
    logging.disable(logging.CRITICAL)
    headers_for = callers()

    errors: list[str] = []
    got_request_exception.connect(
        lambda sender, request, **kw: errors.append(traceback.format_exc()), weak=False
    )

    schema = openapi.from_wsgi("/api/v1/schema", get_wsgi_application())
    cases: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    runner_errors: list[str] = []
    server_errors: list[tuple[str, str, int, str, str]] = []
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if args.only not in operation.path:
            continue
        label = f"{operation.method.upper()} {operation.path}"
        targets = [None] + [{"id": pk} for pk in real_ids(operation.path)]
        for caller, headers in headers_for.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for path_parameters in targets:
                    run = fuzz_one(
                        operation,
                        mode,
                        args,
                        label,
                        caller,
                        headers,
                        cases,
                        server_errors,
                        errors,
                        path_parameters=path_parameters,
                    )
                    try:
                        run()
                    except Unsatisfiable:  # nothing to generate (e.g. no negative case)
                        skipped[label] += 1
                    except Exception as exc:  # the runner itself failed: say so, fail the run
                        runner_errors.append(f"{label} as {caller} ({mode}): {exc!r}")
        print(f"{label}: {cases[label]} cases", flush=True)

    elapsed = time.monotonic() - started
    total = sum(cases.values())
    print(f"\n{total} cases over {len(cases)} operations in {elapsed:.0f} s")
    print("answers by status:", dict(sorted(statuses.items())))
    if skipped:
        print(f"runs that could generate nothing: {dict(skipped)}")
    print(f"server errors: {len(server_errors)}")
    seen = set()
    for label, caller, status, curl, trace in server_errors:
        key = (label, trace.strip().splitlines()[-1] if trace.strip() else status)
        if key in seen:
            continue
        seen.add(key)
        print(f"\n--- {status} {label} as {caller}\n{curl}\n{trace}")
    for line in runner_errors:
        print(f"runner error: {line}")
    return 1 if server_errors or runner_errors else 0


if __name__ == "__main__":
    sys.exit(main())
