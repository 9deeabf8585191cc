"""A member's training data: the member, their trainers and their branch's managers
see it; the front desk, other trainers and other gyms never do (portal, admin, API)."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import RoleAssignmentFactory, TrainerProfileFactory, UserFactory
from training import selectors, services
from training.models import BodyMetric, WorkoutSession
from training.tests.factories import ProgressPhotoFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged(assigned, member, squat):
    """The member's workout with a set, a measurement and a progress photo."""
    session = services.workout_start(member=member)
    services.set_log(
        session=session, client_id=uuid.uuid4(), exercise=squat, reps=5, load_kg=Decimal("100")
    )
    services.metric_record(member=member, kind="weight", value=Decimal("82.5"), actor=None)
    photo = ProgressPhotoFactory(member=member, organisation=member.organisation)
    return {"session": session, "photo": photo}


@pytest.fixture
def people(gym, other_gym, branch, other_branch, member, trainer, manager, front_desk, owner):
    other_manager = UserFactory(email="manager.south@gym-a.test")
    RoleAssignmentFactory(user=other_manager, branch=other_branch, role=Role.BRANCH_MANAGER)
    unassigned = TrainerProfileFactory(organisation=gym, user=UserFactory(email="c2@gym-a.test"))
    elsewhere = TrainerProfileFactory(
        organisation=other_gym, user=UserFactory(email="c@gym-b.test")
    )
    return {
        "member": (member.user, True),
        "trainer": (trainer.user, True),
        "manager": (manager, True),
        "owner": (owner, True),
        "front_desk": (front_desk, False),
        "manager of another branch": (other_manager, False),
        "unassigned trainer": (unassigned.user, False),
        "another gym's trainer": (elsewhere.user, False),
    }


WHO = [
    "member",
    "trainer",
    "manager",
    "owner",
    "front_desk",
    "manager of another branch",
    "unassigned trainer",
    "another gym's trainer",
]


@pytest.mark.parametrize("who", WHO)
def test_the_rule_in_one_place(who, people, logged, member, in_gym):
    user, allowed = people[who]
    assert (selectors.viewer_of(user=user, member=member) is not None) is allowed
    assert selectors.visible_members(user=user).filter(pk=member.pk).exists() is allowed


@pytest.mark.parametrize("who", WHO)
def test_portal_pages(who, people, logged, member, client_for):
    user, allowed = people[who]
    client = client_for(user)
    pages = [
        reverse("training:workout", args=[logged["session"].pk]),
        reverse("training:photo", args=[logged["photo"].pk]),
        reverse("training:client", args=[member.pk]),
    ]
    for url in pages:
        response = client.get(url)
        if allowed:
            assert response.status_code in (200, 302), url
        else:
            assert response.status_code == 404, url
    if allowed and who != "member":
        page = client.get(pages[2])
        assert page.status_code == 200 and b"82.5" in page.content
        assert f'src="{pages[1]}"'.encode() in page.content
    photo = client.get(pages[1])
    if allowed:
        assert b"".join(photo.streaming_content).startswith(b"\xff\xd8")
        assert "no-store" in photo["Cache-Control"]


@pytest.mark.parametrize("who", WHO)
def test_api(who, people, logged, member, api_client):
    user, allowed = people[who]
    api_client.force_authenticate(user)
    for path in ("metrics", "records", "workouts", "plans"):
        response = api_client.get(f"/api/v1/training/{path}", {"member": member.pk})
        assert response.status_code == (200 if allowed else 404), (path, response.content)
    if allowed:
        metrics = api_client.get("/api/v1/training/metrics", {"member": member.pk}).json()
        assert [m["value"] for m in metrics["results"]] == ["82.50"]


@pytest.mark.parametrize("who", ["manager", "owner", "front_desk", "manager of another branch"])
def test_admin(who, people, logged, client_for):
    user, allowed = people[who]
    client = client_for(user)
    listing = client.get(reverse("admin:training_workoutsession_changelist"))
    opened = client.get(
        reverse("admin:training_workoutsession_change", args=[logged["session"].pk])
    )
    metrics = client.get(reverse("admin:training_bodymetric_changelist"))
    if who == "front_desk":
        assert listing.status_code == 403 and metrics.status_code == 403
        assert opened.status_code == 403
        return
    assert listing.status_code == 200
    listed = [obj.pk for obj in listing.context["cl"].result_list]
    assert (logged["session"].pk in listed) is allowed
    assert opened.status_code == (200 if allowed else 302)
    with_scope = [obj.pk for obj in metrics.context["cl"].result_list]
    assert bool(with_scope) is allowed


def test_front_desk_cannot_comment_or_reach_through_the_service(
    logged, front_desk, trainer, member, in_gym
):
    from gymsite.errors import NotAllowed

    with pytest.raises(NotAllowed):
        services.workout_comment_add(session=logged["session"], author=front_desk, body="hi")
    comment = services.workout_comment_add(
        session=logged["session"], author=trainer.user, body="Great depth today."
    )
    assert comment.session.member_id == member.pk
    assert WorkoutSession.objects.filter(comments__body="Great depth today.").exists()
    assert BodyMetric.objects.filter(member=member).count() == 1
