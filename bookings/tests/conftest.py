import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tenancy import tenant_scope
from accounts.tests.factories import MemberFactory
from classes.tests.conftest import session_factory, staff_user  # noqa: F401 (shared fixtures)
from memberships.tests.factories import MembershipFactory, PlanFactory

MAX_THREADS = 30


@pytest.fixture
def make_member(gym, branch):
    """A member of gym A with an active membership (unlimited classes by default)."""

    def make(plan=None, **member_fields):
        member_fields.setdefault("home_branch", branch)
        member = MemberFactory(**member_fields)
        membership = MembershipFactory(
            member=member,
            organisation=gym,
            plan=plan or PlanFactory(organisation=gym),
            start_date=timezone.localdate() - timedelta(days=10),
        )
        member.test_membership = membership
        return member

    return make


@pytest.fixture
def class_pack(gym):
    return PlanFactory(organisation=gym, class_pack=True)


def run_concurrently(gym, jobs, threads=MAX_THREADS):
    """Run callables on at most ``threads`` threads that start together (a barrier),
    each inside gym A's scope with its own connection. Returns results in job order:
    the value returned or the exception raised."""
    results = [None] * len(jobs)
    workers = min(threads, len(jobs))
    barrier = threading.Barrier(workers)

    def worker(offset):
        try:
            barrier.wait()
            for index in range(offset, len(jobs), workers):
                with tenant_scope(gym):
                    try:
                        results[index] = jobs[index]()
                    except Exception as exc:
                        results[index] = exc
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    return results


@pytest.fixture
def concurrently(gym):
    def run(jobs, threads=MAX_THREADS):
        return run_concurrently(gym, jobs, threads)

    return run
