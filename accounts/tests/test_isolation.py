"""Tenant and branch isolation for every organisation-owned model.

Walks every TenantModel in the project, builds a row with its factory (each app's
``tests/factories.py``) and proves that another gym cannot reach it through the
data layer or the admin, and that branch staff cannot reach another branch's rows.
A new tenant model without a factory fails this test.
"""

from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from factory.django import DjangoModelFactory

from accounts.models import Role
from accounts.tenancy import TenantModel, tenant_scope
from accounts.tests.factories import BranchFactory, RoleAssignmentFactory, UserFactory
from conftest import LOGIN_BACKEND

PROJECT_APPS = [
    "accounts",
    "memberships",
    "billing",
    "classes",
    "bookings",
    "access",
    "inventory",
    "training",
    "assistant",
    "staff",
    "reports",
]


def _factories() -> dict:
    """Every factory in <app>/tests/*factories.py, by model."""
    found = {}
    for app in PROJECT_APPS:
        tests_dir = Path(apps.get_app_config(app).path) / "tests"
        for path in sorted(tests_dir.glob("*factories.py")):
            module = import_module(f"{app}.tests.{path.stem}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, DjangoModelFactory)
                    and value._meta.model is not None
                ):
                    found.setdefault(value._meta.model, value)
    return found


FACTORIES = _factories()
TENANT_MODELS = sorted(
    (m for m in apps.get_models() if issubclass(m, TenantModel)), key=lambda m: m._meta.label
)


def _factory(model):
    if model not in FACTORIES:
        pytest.skip("no factory: see test_every_tenant_model_has_a_factory")
    return FACTORIES[model]


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m._meta.label)
def test_every_tenant_model_has_a_factory(model):
    assert model in FACTORIES, (
        f"add a factory for {model._meta.label} in its app's tests/factories.py"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m._meta.label)
def test_another_gym_sees_nothing(model, gym):
    # given: a row that belongs to some other gym
    row = _factory(model)()
    assert row.organisation_id != gym.pk

    # then: gym A's scope reaches none of it
    with tenant_scope(gym):
        assert not model.objects.filter(pk=row.pk).exists()
        assert row.pk not in set(model.objects.values_list("pk", flat=True))
    # and its own gym does (the check above is not vacuous)
    with tenant_scope(row.organisation_id):
        assert model.objects.filter(pk=row.pk).exists()


ADMIN_MODELS = [m for m in TENANT_MODELS if m in admin.site._registry]


@pytest.mark.django_db
@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda m: m._meta.label)
def test_admin_of_another_gym_cannot_list_or_open(model, client, owner):
    # given: a row of another gym, whose owner can open it
    row = _factory(model)()
    row.organisation.domain = f"gym-{row.organisation_id}.test"
    row.organisation.save()
    their_owner = UserFactory()
    RoleAssignmentFactory(
        user=their_owner, organisation=row.organisation, branch=None, role=Role.OWNER
    )
    opts = model._meta
    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
    changelist_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")

    client.force_login(their_owner, backend=LOGIN_BACKEND)
    response = client.get(change_url, HTTP_HOST=row.organisation.domain)
    assert response.status_code == 200

    # when: gym A's owner tries, on gym A's host
    client.force_login(owner, backend=LOGIN_BACKEND)
    listing = client.get(changelist_url, HTTP_HOST="gym-a.test")
    opened = client.get(change_url, HTTP_HOST="gym-a.test")

    # then: the row is neither listed nor opened
    assert listing.status_code == 200
    assert row.pk not in [obj.pk for obj in listing.context["cl"].result_list]
    assert opened.status_code in (302, 404)
    if opened.status_code == 302:
        assert opened.url == reverse("admin:index")


BRANCH_MODELS = [m for m in TENANT_MODELS if m.tenant_branch_path]


@pytest.mark.django_db
@pytest.mark.parametrize("model", BRANCH_MODELS, ids=lambda m: m._meta.label)
def test_branch_staff_see_only_their_branches(model):
    # given: a branch-bound row, and a manager of another branch of the same gym
    row = _factory(model)()
    with tenant_scope(row.organisation_id):
        row_branch_id = model.objects.filter(pk=row.pk).values_list(
            model.tenant_branch_path, flat=True
        )[0]
    if row_branch_id is None:
        pytest.skip("row has no branch (organisation-wide)")
    elsewhere = BranchFactory(organisation=row.organisation)

    # then: scoped to the other branch, the row is out of reach; to its own, in reach
    with tenant_scope(row.organisation_id, branch_ids=[elsewhere.pk]):
        assert not model.objects.filter(pk=row.pk).exists()
    with tenant_scope(row.organisation_id, branch_ids=[row_branch_id]):
        assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model", [m for m in BRANCH_MODELS if m in admin.site._registry], ids=lambda m: m._meta.label
)
def test_branch_manager_cannot_open_another_branchs_row_in_admin(model, client):
    row = _factory(model)()
    with tenant_scope(row.organisation_id):
        row_branch_id = model.objects.filter(pk=row.pk).values_list(
            model.tenant_branch_path, flat=True
        )[0]
    if row_branch_id is None:
        pytest.skip("row has no branch (organisation-wide)")
    row.organisation.domain = "branchy.test"
    row.organisation.save()
    elsewhere = BranchFactory(organisation=row.organisation)
    manager = UserFactory()
    RoleAssignmentFactory(user=manager, branch=elsewhere, role=Role.BRANCH_MANAGER)
    opts = model._meta

    client.force_login(manager, backend=LOGIN_BACKEND)
    opened = client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]),
        HTTP_HOST="branchy.test",
    )
    assert opened.status_code in (302, 403, 404)
