"""A trainer builds a plan and assigns it; the member logs the workout on their phone
and sees their progress chart. In Chromium, at phone and desktop sizes."""

import pytest

from accounts.tenancy import tenant_scope
from training.models import Plan, PlanAssignment, SetLog
from training.tests.factories import ExerciseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_trainer_builds_a_plan_and_the_member_logs_it_and_sees_the_chart(
    journey, gym, trainer, member
):
    # given: a gym exercise (the shared library is the migration's, which transactional
    # tests flush), a trainer and a member of the trainer's branch
    ExerciseFactory(organisation=gym, name="Goblet Squat Hold", equipment="kettlebell")
    page = journey.page

    # when: the trainer creates a plan for the member with a day and an exercise
    journey.sign_in(trainer.user)
    journey.go("/training/coach/plans/")
    page.get_by_label("Name").fill("Leg day basics")
    page.get_by_label("For member").select_option(label=member.full_name)
    page.get_by_role("button", name="Create").click()
    page.wait_for_load_state()
    page.get_by_label("Day name").fill("Legs")
    page.get_by_role("button", name="Add day").click()
    page.wait_for_load_state()
    page.get_by_text("Add an exercise").click()
    form = page.locator("details[open] form")
    form.get_by_label("Exercise").select_option(label="Goblet Squat Hold")
    form.get_by_label("Sets").fill("3")
    form.get_by_label("Reps (or lowest of a range)").fill("10")
    form.get_by_label("Load (kg)").fill("24")
    form.get_by_role("button", name="Add to Legs").click()
    page.wait_for_load_state()
    journey.check()
    journey.shot("plan built")
    assert page.get_by_text("3 × 10 @ 24 kg").is_visible()

    # and assigns it from today
    page.get_by_role("combobox", name="Member").select_option(label=member.full_name)
    page.get_by_role("button", name="Assign").click()
    page.wait_for_load_state()
    journey.check()
    journey.shot("client page")
    with tenant_scope(gym):
        plan = Plan.objects.get(name="Leg day basics")
        assert PlanAssignment.objects.filter(plan=plan, member=member).exists()

    # then: the member opens today's workout and logs a set, then a weigh-in
    page.context.clear_cookies()
    journey.sign_in(member.user)
    journey.go("/training/")
    page.get_by_role("button", name="Start workout").click()
    page.wait_for_load_state()
    journey.check()
    set_form = page.locator("form.set-form")
    assert set_form.get_by_label("Reps").input_value() == "10"
    set_form.get_by_label("RPE").fill("8")
    set_form.get_by_role("button", name="Log set 1").click()
    page.wait_for_load_state()
    assert page.get_by_text("New personal record").is_visible()
    journey.shot("set logged")
    page.get_by_role("button", name="Finish workout").click()
    page.wait_for_load_state()
    with tenant_scope(gym):
        assert SetLog.objects.filter(member=member, reps=10, load_kg=24).count() == 1

    journey.go("/training/progress/")
    page.get_by_label("Value").fill("82.4")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    journey.check()
    # and the charts are drawn (our SVG, from the page's own data)
    page.wait_for_selector('[data-chart="chart-metric"][data-drawn="true"] svg circle')
    assert page.locator('[data-chart="chart-metric"] .chart-summary').inner_text() == (
        "82.4 kg (+0.0)"
    )
    page.wait_for_selector('[data-chart="chart-e1rm"][data-drawn="true"] svg circle')
    journey.shot("progress chart")
