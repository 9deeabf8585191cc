"""The data layer refuses unscoped queries and filters scoped ones."""

import pytest
from django import forms
from django.db.models import Exists, OuterRef

from accounts.models import Branch, Member
from accounts.tenancy import TenantScopeMissing, tenant_scope
from accounts.tests.factories import BranchFactory, MemberFactory

pytestmark = pytest.mark.django_db


def test_query_without_scope_raises(branch):
    with pytest.raises(TenantScopeMissing):
        list(Branch.objects.all())
    with pytest.raises(TenantScopeMissing):
        Branch.objects.count()
    with pytest.raises(TenantScopeMissing):
        Branch.objects.filter(name="North").exists()
    with pytest.raises(TenantScopeMissing):
        Branch.objects.filter(name="North").update(name="Hacked")


def test_scope_filters_to_the_organisation(gym, branch, foreign_branch):
    with tenant_scope(gym):
        assert list(Branch.objects.all()) == [branch]
        assert not Branch.objects.filter(pk=foreign_branch.pk).exists()
        with pytest.raises(Branch.DoesNotExist):
            Branch.objects.get(pk=foreign_branch.pk)
        assert Branch.objects.filter(pk=foreign_branch.pk).update(name="Hacked") == 0
    foreign_branch.refresh_from_db()
    assert foreign_branch.name == "Elsewhere"


def test_branch_scope_limits_branch_bound_rows(gym, branch, other_branch):
    with tenant_scope(gym, branch_ids=[branch.pk]):
        assert list(Branch.objects.all()) == [branch]


def test_queryset_declared_outside_scope_is_scoped_when_it_runs(gym, branch, foreign_branch):
    # given: a form field declared at import time, as forms and serializers do
    class BranchForm(forms.Form):
        branch = forms.ModelChoiceField(queryset=Branch.objects.all())

    # when: a request of gym A uses it
    with tenant_scope(gym):
        form = BranchForm(data={"branch": foreign_branch.pk})
        # then: gym B's branch is not a valid choice
        assert not form.is_valid()
        assert BranchForm(data={"branch": branch.pk}).is_valid()


def test_subqueries_are_scoped(gym, branch, foreign_branch):
    MemberFactory(home_branch=foreign_branch)
    with tenant_scope(gym):
        with_members = Branch.objects.filter(
            Exists(Member.objects.filter(home_branch=OuterRef("pk")))
        )
        assert list(with_members) == []
        assert list(Branch.objects.filter(pk__in=Member.objects.values("home_branch"))) == []


def test_related_managers_are_scoped(gym, other_gym, branch):
    with tenant_scope(other_gym):
        assert list(branch.home_members.all()) == []


def test_save_fills_organisation_from_scope_and_refuses_another(gym, other_gym, branch):
    with tenant_scope(gym):
        created = Branch.objects.create(
            name="East", slug="east", address_line="x", city="y", latitude=1, longitude=1
        )
    assert created.organisation == gym
    with tenant_scope(other_gym), pytest.raises(TenantScopeMissing):
        branch.name = "Taken over"
        branch.save()


def test_unscoped_is_explicit(branch, foreign_branch):
    assert set(Branch.objects.unscoped()) == {branch, foreign_branch}


def test_bulk_create_takes_organisation_from_scope(gym):
    with tenant_scope(gym):
        Branch.objects.bulk_create(
            [Branch(name="W", slug="w", address_line="x", city="y", latitude=1, longitude=1)]
        )
        assert Branch.objects.get(slug="w").organisation_id == gym.pk


def test_factories_work_without_scope():
    branch = BranchFactory()
    assert branch.organisation_id


def test_queryset_declared_inside_one_scope_is_not_tied_to_it(
    gym, other_gym, branch, foreign_branch
):
    # given: a module imported for the first time during a request of gym A
    with tenant_scope(gym):
        declared = Branch.objects.filter(is_active=True)
    # when: gym B's request uses it, then gym A's again
    with tenant_scope(other_gym):
        seen_by_b = list(declared.all())
    with tenant_scope(gym):
        seen_by_a = list(declared.all())
    # then: each sees only its own
    assert seen_by_b == [foreign_branch]
    assert seen_by_a == [branch]


def test_delete_and_raw_delete_are_scoped(gym, branch, foreign_branch):
    from accounts.models import OpeningHours
    from accounts.tests.factories import OpeningHoursFactory

    OpeningHoursFactory(branch=foreign_branch)
    with tenant_scope(gym):
        OpeningHours.objects.all().delete()  # fast-delete path (_raw_delete)
        Member.objects.all().delete()
    with tenant_scope(foreign_branch.organisation):
        assert OpeningHours.objects.count() == 1


def test_counts_aggregates_and_values_are_scoped(gym, branch, foreign_branch):
    from django.db.models import Count

    with tenant_scope(gym):
        assert Branch.objects.count() == 1
        assert Branch.objects.aggregate(n=Count("pk"))["n"] == 1
        assert list(Branch.objects.values_list("pk", flat=True)) == [branch.pk]
        assert Branch.objects.filter(pk=foreign_branch.pk).first() is None
