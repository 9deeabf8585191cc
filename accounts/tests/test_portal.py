"""Member and trainer portal pages, sign-up, and who may enter the back office."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Member
from accounts.tenancy import tenant_scope
from accounts.tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_sign_up_then_complete_profile_lands_on_the_dashboard(
    client, branch, django_capture_on_commit_callbacks
):
    # given: a newcomer signs up on the gym's site
    client.defaults["HTTP_HOST"] = "gym-a.test"
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new@example.com",
            "password1": "a-Long-pass-phrase-1",
            "password2": "a-Long-pass-phrase-1",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("portal:join")

    # when: they complete their profile
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("portal:join"),
            {
                "first_name": "Nova",
                "last_name": "Reyes",
                "home_branch": branch.pk,
                "phone": "020 7946 0018",
            },
        )

    # then: they are a member of this gym, welcomed by email, and see their dashboard
    assert response.status_code == 302
    with tenant_scope(branch.organisation):
        member = Member.objects.get(email="new@example.com")
    assert member.home_branch == branch
    assert any("Welcome" in m.subject for m in mail.outbox)
    dashboard = client.get(reverse("portal:home"))
    assert dashboard.status_code == 200
    assert "Nova" in dashboard.content.decode()


def test_join_form_reshows_input_with_errors_beside_fields(client_for, branch):
    client = client_for(UserFactory())
    response = client.post(reverse("portal:join"), {"first_name": "Nova", "home_branch": 999999})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Nova"' in html
    assert "errorlist" in html
    assert 'aria-invalid="true"' in html


def test_member_cannot_pick_another_gyms_branch(client_for, branch, foreign_branch):
    client = client_for(UserFactory())
    response = client.post(
        reverse("portal:join"),
        {"first_name": "A", "last_name": "B", "home_branch": foreign_branch.pk},
    )
    assert response.status_code == 200
    with tenant_scope(branch.organisation):
        assert not Member.objects.exists()


def test_household_payer_adds_a_dependant_without_a_login(client_for, member):
    client = client_for(member.user)
    response = client.post(
        reverse("portal:household"), {"first_name": "Kid", "last_name": "Member", "email": ""}
    )
    assert response.status_code == 302
    with tenant_scope(member.organisation):
        dependant = Member.objects.get(first_name="Kid")
    assert dependant.payer == member and dependant.user is None


def test_profile_edit(client_for, member):
    client = client_for(member.user)
    response = client.post(
        reverse("portal:profile"),
        {
            "first_name": member.first_name,
            "last_name": member.last_name,
            "home_branch": member.home_branch_id,
            "phone": "020 7946 0018",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.phone == "+442079460018"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "call me maybe", "real phone number"),
        ("phone", "0770", "real phone number"),
        ("date_of_birth", "2090-01-01", "cannot be in the future"),
        ("date_of_birth", "1800-05-01", "Check the year"),
        ("goals", "x" * 10_000, "at most 1000 characters"),
    ],
)
def test_profile_refuses_nonsense_beside_the_field_and_keeps_the_input(
    client_for, member, field, value, message
):
    # given: a member editing their profile
    data = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "home_branch": member.home_branch_id,
        "phone": "020 7946 0018",
        "goals": "Run 10k",
        field: value,
    }
    # when
    response = client_for(member.user).post(reverse("portal:profile"), data)
    # then: the page comes back with the error at that field and what was typed
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and message in str(errors[field])
    assert value[:50] in response.content.decode()
    member.refresh_from_db()
    assert member.goals != value


def test_a_danish_members_local_number_is_read_as_danish(client_for, member, in_gym):
    member.home_branch.country = "DK"
    member.home_branch.save()
    response = client_for(member.user).post(
        reverse("portal:profile"),
        {
            "first_name": member.first_name,
            "last_name": member.last_name,
            "home_branch": member.home_branch_id,
            "phone": "20 12 34 56",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.phone == "+4520123456"


def test_trainer_portal_is_for_trainers(client_for, trainer, member):
    assert client_for(trainer.user).get(reverse("portal:trainer")).status_code == 200
    assert client_for(member.user).get(reverse("portal:trainer")).status_code == 404


@pytest.mark.parametrize(
    ("actor", "status"), [("owner", 200), ("manager", 200), ("front_desk", 200), ("member", 302)]
)
def test_back_office_is_open_to_staff_roles_only(client_for, request, actor, status, member):
    user = request.getfixturevalue(actor)
    user = user.user if actor == "member" else user
    assert client_for(user).get(reverse("admin:index")).status_code == status


def test_branch_manager_lists_only_their_branch_in_the_admin(
    client_for, manager, branch, other_branch
):
    response = client_for(manager).get(reverse("admin:accounts_branch_changelist"))
    assert [b.pk for b in response.context["cl"].result_list] == [branch.pk]


def test_public_pages_have_a_bounded_number_of_queries(client, gym, django_assert_max_num_queries):
    for n in range(12):
        BranchFactory(organisation=gym, name=f"Branch {n}", slug=f"b{n}")
    client.defaults["HTTP_HOST"] = "gym-a.test"
    with django_assert_max_num_queries(6):
        assert (
            client.get(reverse("portal:branches"), {"lat": "51.5", "lon": "-0.1"}).status_code
            == 200
        )
    with django_assert_max_num_queries(6):
        assert client.get(reverse("portal:landing")).status_code == 200


def test_bad_coordinates_are_a_clear_error_not_a_500(client, branch):
    client.defaults["HTTP_HOST"] = "gym-a.test"
    response = client.get(reverse("portal:branches"), {"lat": "north", "lon": "1"})
    assert response.status_code == 200
    assert "not valid" in response.content.decode()


def test_google_login_is_offered_when_configured(client, branch, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {"APPS": [{"client_id": "id", "secret": "secret", "key": ""}]}
    }
    client.defaults["HTTP_HOST"] = "gym-a.test"
    assert "Google" in client.get(reverse("account_login")).content.decode()


def test_password_reset_email_goes_through_the_outbox(
    client, member, django_capture_on_commit_callbacks
):
    from gymsite.models import OutboxMessage

    client.defaults["HTTP_HOST"] = "gym-a.test"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": member.user.email})
    assert response.status_code == 302
    message = OutboxMessage.objects.get(kind="email")
    assert message.payload["to"] == [member.user.email]
    assert message.status == OutboxMessage.Status.SENT
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_sidebar_offers_the_desk_and_the_till(client_for, front_desk):
    html = client_for(front_desk).get(reverse("admin:index")).content.decode()
    assert 'href="/access/desk/"' in html and "Front desk" in html
    assert 'href="/shop/pos/"' in html and "Till" in html


def test_front_desk_login_lands_on_the_desk(client, front_desk, manager):
    client.defaults["HTTP_HOST"] = "gym-a.test"
    for user, landing in ((front_desk, "/access/desk/"), (manager, reverse("portal:home"))):
        user.set_password("a-Long-pass-phrase-1")
        user.save()
        response = client.post(
            reverse("account_login"), {"login": user.email, "password": "a-Long-pass-phrase-1"}
        )
        assert response.status_code == 302 and response.url == landing
        client.logout()
