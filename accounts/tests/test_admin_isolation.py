"""Admin forms keep to the gym in scope, structurally.

Walks every ModelAdmin registered on the project's admin site (ours and third-party
apps'), builds its add and change forms and its inlines' forms as a gym's owner, and
for every field that points at a tenant model, an organisation or a person, proves
that another gym's row is neither offered nor accepted ("Select a valid choice"
beside the field), while that gym's own owner may pick it (so the refusal is the
scope's doing). Branch staff are walked the same way for branch-bound rows. A new
admin, inline or form field that reaches outside the gym fails here.
"""

import json

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin import ModelAdmin as DjangoModelAdmin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.test import RequestFactory
from django.utils.datastructures import MultiValueDict

from accounts.admin_base import ScopedChoicesMixin
from accounts.admin_site import SpotterAdminSite
from accounts.models import Branch, Member, Organisation, Role, RoleAssignment, TrainerProfile, User
from accounts.tenancy import TenantModel, tenant_scope
from accounts.tests.factories import (
    BranchFactory,
    MemberFactory,
    OrganisationFactory,
    RoleAssignmentFactory,
    UserFactory,
)
from accounts.tests.test_isolation import FACTORIES
from conftest import LOGIN_BACKEND

ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def points_into_a_gym(model) -> bool:
    """Rows that belong to one gym: tenant rows, organisations, and people (a person
    is reachable from a gym only once they belong to it)."""
    return issubclass(model, (TenantModel, Organisation, User))


def _owner_of(organisation_id: int) -> User:
    user = UserFactory()
    organisation = Organisation.objects.get(pk=organisation_id)
    RoleAssignmentFactory(user=user, organisation=organisation, branch=None, role=Role.OWNER)
    return user


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _instance(model):
    """A saved row of the admin's model (for its change form), or None."""
    if model in FACTORIES:
        return FACTORIES[model]()
    return None


def _form_shapes(model_admin, request, obj) -> dict[str, type]:
    """Every form the admin builds for this request: add, change, each inline's."""
    shapes = {}
    for change, instance in ((False, None), (True, obj)):
        if change and instance is None:
            continue
        fields = flatten_fieldsets(model_admin.get_fieldsets(request, instance))
        kind = "change" if change else "add"
        shapes[kind] = model_admin.get_form(request, instance, change=change, fields=fields)
        for formset, inline in model_admin.get_formsets_with_inlines(request, instance):
            shapes[f"{kind}/{type(inline).__name__}"] = formset.form
    return shapes


def _gym_fields(form_class):
    """(name, field) of every relation field pointing into a gym, as a form shows it."""
    form = form_class()
    for name, field in form.fields.items():
        if isinstance(field, ModelChoiceField) and points_into_a_gym(field.queryset.model):
            yield name, field


def _key(field, row):
    return getattr(row, field.to_field_name or "pk")


def _raw(field, value):
    return [str(value)] if isinstance(field, ModelMultipleChoiceField) else str(value)


def _foreign_row(model):
    """A row of ``model`` that belongs to a gym of its own, and that gym's id."""
    if issubclass(model, User):
        person = UserFactory()
        organisation = OrganisationFactory()
        MemberFactory(user=person, home_branch=BranchFactory(organisation=organisation))
        return person, organisation.pk
    if issubclass(model, Organisation):
        organisation = OrganisationFactory()
        return organisation, organisation.pk
    row = FACTORIES[model]()
    return row, row.organisation_id


def _assert_refused(form_class, name, field, value, where):
    offered = {_key(field, row) for row in field.queryset}
    assert value not in offered, f"{where}: {name} offers a row of another gym"
    raw = _raw(field, value)
    # MultiValueDict holds lists: a bare "146" would read as its last character, "6".
    data = MultiValueDict({name: raw if isinstance(raw, list) else [raw]})
    bound = form_class(data=data, files=MultiValueDict())
    bound.is_valid()
    errors = bound.errors.as_data().get(name, [])
    assert [e.code for e in errors] == ["invalid_choice"], (
        f"{where}: {name} accepted a row of another gym ({errors})"
    )


def _assert_accepted(form_class, name, value, where):
    field = form_class().fields[name]
    try:
        field.clean(_raw(field, value))
    except ValidationError as exc:
        pytest.fail(f"{where}: {name} refuses a row of its own gym: {exc.messages}")


@pytest.mark.django_db
@pytest.mark.parametrize("model", [m for m, _ in ADMINS], ids=lambda m: m._meta.label)
def test_every_admin_and_inline_is_scoped(model):
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, ScopedChoicesMixin)
    for inline in model_admin.get_inlines(_request(UserFactory()), None):
        assert issubclass(inline, ScopedChoicesMixin), inline


@pytest.mark.django_db
@pytest.mark.parametrize("model", [m for m, _ in ADMINS], ids=lambda m: m._meta.label)
def test_admin_forms_refuse_another_gyms_rows(model):
    # given: a row of this admin's model in gym A (when there is a factory), gym A's owner
    model_admin = admin.site._registry[model]
    obj = _instance(model)
    gym_a = getattr(obj, "organisation_id", None) or OrganisationFactory().pk
    owner_a = _owner_of(gym_a)
    with tenant_scope(gym_a):
        shapes = _form_shapes(model_admin, _request(owner_a), obj)
        fields = [
            (shape, name, field)
            for shape, form in shapes.items()
            for name, field in _gym_fields(form)
        ]
    # and: for each model those fields point at, a row that belongs to another gym
    foreign = {}
    for _, _, field in fields:
        target = field.queryset.model
        if target not in foreign:
            foreign[target] = _foreign_row(target)

    # then: as gym A's owner, each field neither offers nor takes the other gym's row
    with tenant_scope(gym_a):
        for shape, name, field in fields:
            row, _ = foreign[field.queryset.model]
            _assert_refused(shapes[shape], name, field, _key(field, row), f"{model_admin} {shape}")

    # and: in the row's own gym, its owner may pick it (the refusal is the scope's doing)
    for shape, name, field in fields:
        row, gym_b = foreign[field.queryset.model]
        owner_b = _owner_of(gym_b)
        with tenant_scope(gym_b):
            form = _form_shapes(model_admin, _request(owner_b), obj)[shape]
            _assert_accepted(form, name, _key(field, row), f"{model_admin} {shape}")


@pytest.mark.django_db
@pytest.mark.parametrize("model", [m for m, _ in ADMINS], ids=lambda m: m._meta.label)
def test_admin_forms_keep_branch_staff_to_their_branches(model):
    model_admin = admin.site._registry[model]
    obj = _instance(model)
    probe_gym = getattr(obj, "organisation_id", None) or OrganisationFactory().pk
    with tenant_scope(probe_gym):
        shapes = _form_shapes(model_admin, _request(_owner_of(probe_gym)), obj)
        fields = [
            (shape, name, field.queryset.model)
            for shape, form in shapes.items()
            for name, field in _gym_fields(form)
            if getattr(field.queryset.model, "tenant_branch_path", None)
        ]

    for shape, name, target in fields:
        # given: a branch-bound row, and a manager of another branch of its gym
        row = FACTORIES[target]()
        gym = row.organisation_id
        with tenant_scope(gym):
            row_branch = (
                target.objects.filter(pk=row.pk).values_list(target.tenant_branch_path, flat=True)
            )[0]
        if row_branch is None:
            continue  # organisation-wide row: every branch's staff may see it
        elsewhere = BranchFactory(organisation=row.organisation)
        manager = UserFactory()
        RoleAssignmentFactory(user=manager, branch=elsewhere, role=Role.BRANCH_MANAGER)

        # then: scoped to the other branch, the field refuses the row; to its own, takes it
        where = f"{model_admin} {shape} (branch staff)"
        with tenant_scope(gym, branch_ids=[elsewhere.pk]):
            form = _form_shapes(model_admin, _request(manager), obj)[shape]
            field = dict(_gym_fields(form)).get(name)
            if field is None:
                continue  # not editable by branch staff at all
            _assert_refused(form, name, field, _key(field, row), where)
        with tenant_scope(gym, branch_ids=[row_branch]):
            form = _form_shapes(model_admin, _request(manager), obj)[shape]
            _assert_accepted(form, name, _key(field, row), where)


WALKED = {
    ("accounts.RoleAssignment", "user"),
    ("accounts.RoleAssignment", "branch"),
    ("accounts.Member", "user"),
    ("accounts.Member", "payer"),
    ("accounts.TrainerProfile", "branches"),
    ("bookings.Booking", "member"),
    ("classes.ClassSchedule", "trainer"),
    ("accounts.OpeningHours", "branch"),
}


@pytest.mark.django_db
def test_the_walk_reaches_raw_id_autocomplete_select_multi_select_and_inline_fields(gym):
    owner = _owner_of(gym.pk)
    seen = set()
    with tenant_scope(gym):
        for _model, model_admin in ADMINS:
            for form in _form_shapes(model_admin, _request(owner), None).values():
                seen.update((form._meta.model._meta.label, name) for name, _ in _gym_fields(form))
    assert seen >= WALKED, WALKED - seen


# The reported attack, end to end on the shared host.


@pytest.fixture
def their_owner(other_gym):
    return _owner_of(other_gym.pk)


@pytest.fixture
def our_person(member):
    """Gym A's member, with a name no other page text could contain."""
    User.objects.filter(pk=member.user_id).update(first_name="Zebedee", last_name="Quillfeather")
    member.user.refresh_from_db()
    return member


def test_another_gyms_owner_cannot_give_a_role_to_our_member(
    client, our_person, their_owner, foreign_branch
):
    member = our_person
    # given: gym B's owner, in gym B's back office, knows the id of a gym A member's login
    client.force_login(their_owner, backend=LOGIN_BACKEND)

    # when: they post a front-desk role for that person
    response = client.post(
        "/admin/accounts/roleassignment/add/",
        {"user": member.user_id, "role": Role.FRONT_DESK, "branch": foreign_branch.pk},
        HTTP_HOST="gym-b.test",
    )

    # then: a field error beside "user", no role, and not a word of the person's name
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not RoleAssignment.objects.unscoped().filter(user=member.user).exists()
    page = response.content.decode()
    assert member.user.last_name not in page
    assert "Select a valid choice" in page


def test_another_gyms_owner_cannot_attach_our_member_to_a_member_record(
    client, our_person, their_owner, foreign_branch
):
    member = our_person
    client.force_login(their_owner, backend=LOGIN_BACKEND)

    response = client.post(
        "/admin/accounts/member/add/",
        {
            "first_name": "Copied",
            "last_name": "Person",
            "home_branch": foreign_branch.pk,
            "status": Member.Status.ACTIVE,
            "user": member.user_id,
        },
        HTTP_HOST="gym-b.test",
    )

    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert list(Member.objects.unscoped().filter(user=member.user)) == [member]
    assert member.user.last_name not in response.content.decode()


def test_an_owner_gives_a_role_to_someone_who_already_belongs_to_the_gym(
    client, outsider, their_owner, foreign_branch
):
    # given: a member of gym B (they belong to it)
    client.force_login(their_owner, backend=LOGIN_BACKEND)

    response = client.post(
        "/admin/accounts/roleassignment/add/",
        {"user": outsider.user_id, "role": Role.FRONT_DESK, "branch": foreign_branch.pk},
        HTTP_HOST="gym-b.test",
    )

    assert response.status_code == 302
    assert (
        RoleAssignment.objects.unscoped()
        .filter(user=outsider.user, organisation=foreign_branch.organisation, role=Role.FRONT_DESK)
        .exists()
    )


def test_the_user_field_says_outsiders_come_by_invitation(client, owner, gym):
    client.force_login(owner, backend=LOGIN_BACKEND)
    page = client.get("/admin/accounts/roleassignment/add/", HTTP_HOST="gym-a.test")
    assert "invitation" in page.content.decode()


# Autocomplete answers only with what the field accepts.


def _autocomplete(client, host, app_label, model_name, field_name):
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""},
        HTTP_HOST=host,
    )
    assert response.status_code == 200, response.content
    return {result["id"] for result in json.loads(response.content)["results"]}


AUTOCOMPLETE_FIELDS = [
    pytest.param(model, name, id=f"{model._meta.label}.{name}")
    for model, model_admin in ADMINS
    for name in model_admin.autocomplete_fields
    if points_into_a_gym(model._meta.get_field(name).related_model)
]


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "name"), AUTOCOMPLETE_FIELDS)
def test_autocomplete_offers_no_row_of_another_gym(client, model, name):
    # given: a row of the searched model in its own gym, and an owner of another gym
    target = model._meta.get_field(name).related_model
    row = FACTORIES[target]()
    theirs = Organisation.objects.get(pk=row.organisation_id)
    theirs.domain = "theirs.test"
    theirs.save()
    ours = OrganisationFactory(domain="ours.test")
    args = (model._meta.app_label, model._meta.model_name, name)

    client.force_login(_owner_of(ours.pk), backend=LOGIN_BACKEND)
    assert str(row.pk) not in _autocomplete(client, "ours.test", *args)

    client.force_login(_owner_of(theirs.pk), backend=LOGIN_BACKEND)
    assert str(row.pk) in _autocomplete(client, "theirs.test", *args)


@pytest.mark.django_db
def test_autocomplete_of_people_lists_only_the_gyms_people(client, gym, member, outsider):
    # A platform operator may search logins, but in a gym's back office only its people.
    operator = UserFactory(is_superuser=True, is_staff=True)
    stranger = UserFactory()
    client.force_login(operator, backend=LOGIN_BACKEND)

    found = _autocomplete(client, "gym-a.test", "accounts", "roleassignment", "user")

    assert str(member.user_id) in found
    assert str(outsider.user_id) not in found
    assert str(stranger.pk) not in found


# And the model itself refuses a relation to another gym's row.


@pytest.mark.django_db
def test_a_tenant_row_pointing_at_another_gyms_row_does_not_validate(gym, foreign_branch, branch):
    # given: a role in gym A whose branch is gym B's (as code, not a form, might build it)
    person = UserFactory()
    role = RoleAssignment(
        organisation=gym, user=person, role=Role.FRONT_DESK, branch=foreign_branch
    )
    with tenant_scope(gym):
        # then: the model refuses it beside the field, by id too (no related row cached)
        with pytest.raises(ValidationError) as refused:
            role.full_clean()
        assert list(refused.value.message_dict) == ["branch"]
        by_id = RoleAssignment(
            organisation=gym, user=person, role=Role.FRONT_DESK, branch_id=foreign_branch.pk
        )
        with pytest.raises(ValidationError) as refused:
            by_id.full_clean()
        assert list(refused.value.message_dict) == ["branch"]
        # and: gym A's own branch is fine
        RoleAssignment(
            organisation=gym, user=person, role=Role.FRONT_DESK, branch_id=branch.pk
        ).full_clean()


@pytest.mark.django_db
def test_trainer_profile_user_is_limited_to_the_gyms_people(gym, branch, member, outsider):
    owner = _owner_of(gym.pk)
    model_admin = admin.site._registry[TrainerProfile]
    with tenant_scope(gym):
        form = model_admin.get_form(_request(owner), None)()
        people = set(form.fields["user"].queryset.values_list("pk", flat=True))
    assert member.user_id in people
    assert outsider.user_id not in people


# A new admin cannot forget it: not even one that knows nothing of our base classes.


class ProbeRoleForm(forms.ModelForm):
    # Declared by hand, not built by the admin: one of every gym's people and rows.
    user = forms.ModelChoiceField(queryset=User.objects.all())
    branch = forms.ModelChoiceField(queryset=Branch.objects.unscoped(), required=False)

    class Meta:
        model = RoleAssignment
        fields = ["user", "role", "branch"]


class ProbeRoleAdmin(DjangoModelAdmin):
    form = ProbeRoleForm


@pytest.mark.django_db
def test_an_admin_registered_without_our_base_is_scoped_too(
    gym, member, outsider, foreign_branch, branch
):
    # given: a plain Django ModelAdmin with hand-declared unscoped fields, on our site
    site = SpotterAdminSite(name="probe")
    site.register(RoleAssignment, ProbeRoleAdmin)
    model_admin = site._registry[RoleAssignment]
    owner = _owner_of(gym.pk)

    with tenant_scope(gym):
        form_class = model_admin.get_form(_request(owner), None)
        offered = form_class()
        # then: it offers gym A's people and branches only
        assert member.user_id in {u.pk for u in offered.fields["user"].queryset}
        assert outsider.user_id not in {u.pk for u in offered.fields["user"].queryset}
        assert {b.pk for b in offered.fields["branch"].queryset} == {branch.pk}
        # and: refuses gym B's beside each field
        bound = form_class(
            data={"user": outsider.user_id, "role": Role.FRONT_DESK, "branch": foreign_branch.pk}
        )
        assert not bound.is_valid()
        assert {name for name, errors in bound.errors.as_data().items() if errors} == {
            "user",
            "branch",
        }
    # and: the form class everyone shares was left as it was
    shared = ProbeRoleForm.base_fields["user"].queryset
    assert shared.filter(pk=outsider.user_id).exists()
