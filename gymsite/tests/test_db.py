"""The hand-written reads' helpers build the same instances as the ORM."""

import pytest
from django.db import connection
from django.db.models.signals import post_init

from accounts.models import Branch
from accounts.tenancy import tenant_scope
from gymsite.db import loaded_instance, select_list

pytestmark = pytest.mark.django_db

SELECTED = ("id", "organisation_id", "name", "timezone")


def _row(branch):
    attnames, columns = select_list(Branch, "b", SELECTED)
    sql = f"SELECT {columns} FROM {Branch._meta.db_table} b WHERE b.id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [branch.pk])
        return attnames, cursor.fetchone()


def test_loaded_instance_is_what_from_db_builds(gym, branch):
    attnames, row = _row(branch)
    fast = loaded_instance(Branch, attnames, row)
    orm = Branch.from_db("default", attnames, row)
    assert {k: v for k, v in vars(fast).items() if k != "_state"} == {
        k: v for k, v in vars(orm).items() if k != "_state"
    }
    assert (fast._state.adding, fast._state.db) == (orm._state.adding, orm._state.db)
    assert fast.get_deferred_fields() == orm.get_deferred_fields() != set()
    assert fast == orm


def test_loaded_instance_loads_deferred_fields_and_saves(gym, branch, django_assert_num_queries):
    attnames, row = _row(branch)
    fast = loaded_instance(Branch, attnames, row)
    with tenant_scope(gym):
        with django_assert_num_queries(1):
            assert fast.city == branch.city
        fast.name = "Renamed"
        fast.save(update_fields=["name"])
    branch.refresh_from_db()
    assert branch.name == "Renamed"


def test_loaded_instance_runs_init_signal_receivers(gym, branch):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Branch)
    try:
        attnames, row = _row(branch)
        instance = loaded_instance(Branch, attnames, row)
    finally:
        post_init.disconnect(receiver, sender=Branch)
    assert seen == [instance]
