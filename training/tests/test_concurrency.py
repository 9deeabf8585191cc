"""Idempotent set logging under concurrent retries (real threads, real transactions)."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from accounts.tenancy import tenant_scope
from training import services
from training.models import PersonalRecord, SetLog, WorkoutSession
from training.tests.factories import ExerciseFactory

THREADS = 12


def _race(target, count=THREADS):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # collected, asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_the_same_set_sent_by_many_retries_at_once_is_recorded_once(gym, member):
    # given: a workout started offline (its id made on the phone) and one set's id
    exercise = ExerciseFactory(organisation=gym, name="Sandbag Squat")
    workout_id, set_id = uuid.uuid4(), uuid.uuid4()

    def start():
        with tenant_scope(gym):
            return services.workout_start(member=member, client_id=workout_id).pk

    # when: the phone retries the start, then the set, from many connections at once
    started, errors = _race(start)
    assert errors == [] and len(set(started)) == 1

    def log():
        with tenant_scope(gym):
            session = WorkoutSession.objects.get(client_id=workout_id)
            logged = services.set_log(
                session=session,
                client_id=set_id,
                exercise=exercise,
                reps=5,
                load_kg=Decimal("120"),
            )
            return logged.set_log.pk, logged.created, len(logged.records)

    results, errors = _race(log)

    # then: one set, one winner that raised the records, everyone got the same set back
    assert errors == []
    assert len({pk for pk, _, _ in results}) == 1
    assert sorted(created for _, created, _ in results) == [False] * (THREADS - 1) + [True]
    assert [n for _, created, n in results if created] == [3]
    with tenant_scope(gym):
        assert SetLog.objects.filter(client_id=set_id).count() == 1
        assert WorkoutSession.objects.filter(client_id=workout_id).count() == 1
        assert PersonalRecord.objects.filter(member=member).count() == 3


@pytest.mark.django_db(transaction=True)
def test_different_sets_racing_keep_the_best_record(gym, member):
    exercise = ExerciseFactory(organisation=gym, name="Log Press")
    with tenant_scope(gym):
        session = services.workout_start(member=member)
    loads = [Decimal(60 + 2 * i) for i in range(THREADS)]
    pending = list(loads)
    lock = threading.Lock()

    def log():
        with lock:
            load = pending.pop()
        with tenant_scope(gym):
            return services.set_log(
                session=session, client_id=uuid.uuid4(), exercise=exercise, reps=3, load_kg=load
            ).created

    results, errors = _race(log)
    assert errors == [] and all(results)
    with tenant_scope(gym):
        heaviest = PersonalRecord.objects.get(member=member, kind="heaviest_load")
    assert heaviest.value == max(loads)
