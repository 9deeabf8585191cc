"""Member and trainer pages. Who may see a member's data is ``selectors.viewer_of`` /
``selectors.visible_members``; anyone else gets a 404, as if nothing were there."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Member
from accounts.selectors import member_for_user, trainer_for_user
from gymsite.errors import ServiceError
from training import selectors, services
from training.forms import (
    AssignForm,
    CommentForm,
    ExerciseFilterForm,
    ExerciseForm,
    FinishForm,
    MetricForm,
    NutritionLogForm,
    NutritionTargetForm,
    PhotoForm,
    PlanDayForm,
    PlanForm,
    PrescriptionForm,
    SetForm,
    StartForm,
    TrainerPlanForm,
)
from training.models import (
    METRIC_UNITS,
    Exercise,
    MetricKind,
    Plan,
    PlanDay,
    PlanExercise,
    ProgressPhoto,
    WorkoutSession,
)
from training.prescription import describe, target_kg

PHOTO_URL_SECONDS = 300


def _gym(request):
    if getattr(request, "organisation", None) is None:
        raise Http404(_("No gym is served at this address."))


def _member(request) -> Member | None:
    _gym(request)
    return member_for_user(user=request.user)


def _trainer(request):
    _gym(request)
    trainer = trainer_for_user(user=request.user)
    if trainer is None:
        raise Http404(_("You are not a trainer at this gym."))
    return trainer


def _form_error(form, exc: ServiceError):
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _base(request) -> str:
    return "trainer/base.html" if trainer_for_user(user=request.user) else "portal/base.html"


# --- charts ---------------------------------------------------------------------------


def _charts(*, member, exercise_id=None, kind=MetricKind.WEIGHT, custom_type_id=None):
    exercise = (
        Exercise.objects.filter(pk=exercise_id).first()
        if exercise_id
        else selectors.most_logged_exercise(member=member)
    )
    return {
        "metric_series": selectors.metric_series(
            member=member, kind=kind, custom_type_id=custom_type_id
        ),
        "metric_kind": kind,
        "chart_exercise": exercise,
        "e1rm_series": (
            selectors.e1rm_series(member=member, exercise_id=exercise.pk) if exercise else []
        ),
    }


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- member pages ---------------------------------------------------------------------


@login_required
def home(request):
    member = _member(request)
    if member is None:
        return redirect("portal:join")
    today = selectors.today_workout(member=member)
    context = {
        "member": member,
        "today": today,
        "streak": selectors.attendance_streak(member=member),
        "records": selectors.member_records(member=member)[:8],
        "sessions": selectors.member_sessions(member=member, limit=5),
        "start_form": StartForm(auto_id="plan_%s"),
        "free_start_form": StartForm(auto_id="free_%s"),
        **_charts(member=member),
    }
    return render(request, "training/home.html", context)


@login_required
@require_POST
def workout_start(request):
    member = _member(request)
    if member is None:
        raise Http404
    form = StartForm(request.POST)
    day = None
    day_id = _int(request.POST.get("plan_day"))
    if day_id:
        day = get_object_or_404(
            PlanDay.objects.select_related("version__plan"),
            pk=day_id,
            version__plan__member=member,
        )
    if not form.is_valid():
        messages.error(request, _("Could not start the workout: reload the page."))
        return redirect("training:home")
    try:
        session = services.workout_start(
            member=member,
            client_id=form.cleaned_data["client_id"],
            plan_day=day,
            title=form.cleaned_data["title"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("training:home")
    return redirect("training:workout", pk=session.pk)


@login_required
def workout(request, pk):
    """A workout: the member logs sets here; their trainers and managers read and comment."""
    _gym(request)
    session = selectors.session_detail(
        session_id=pk, members=selectors.visible_members(user=request.user)
    )
    if session is None:
        raise Http404
    role = selectors.viewer_of(user=request.user, member=session.member)
    is_owner = role == "self"
    set_form = SetForm(request.POST or None) if request.method == "POST" else None
    if request.method == "POST" and request.POST.get("action") == "log" and is_owner:
        if set_form.is_valid():
            data = set_form.cleaned_data
            item = None
            if data.get("plan_exercise"):
                item = (
                    PlanExercise.objects.select_related("day", "exercise")
                    .filter(pk=data["plan_exercise"], day__version_id=session.plan_version_id)
                    .first()
                )
            try:
                logged = services.set_log(
                    session=session,
                    client_id=data["client_id"],
                    exercise=item.exercise if item else data["exercise"],
                    plan_exercise=item,
                    set_number=data["set_number"],
                    reps=data["reps"],
                    load_kg=data["load_kg"],
                    rpe=data["rpe"],
                    duration_seconds=data["duration_seconds"],
                    distance_m=data["distance_m"],
                    notes=data["notes"],
                )
            except ServiceError as exc:
                _form_error(set_form, exc)
            else:
                if logged.records:
                    messages.success(
                        request,
                        _("New personal record: %(what)s!")
                        % {"what": ", ".join(r.get_kind_display() for r in logged.records)},
                    )
                else:
                    messages.success(request, _("Set saved."))
                return redirect("training:workout", pk=session.pk)
        if set_form.errors:
            messages.error(request, " ".join(str(e) for e in set_form.errors.values()))
    planned = []
    if session.plan_day_id:
        days = selectors.version_days(version_id=session.plan_version_id)
        day = next((d for d in days if d.pk == session.plan_day_id), None)
        sets_by_item = {}
        for row in session.sets.all():
            sets_by_item.setdefault(row.plan_exercise_id, []).append(row)
        maxes = selectors.best_e1rm_by_exercise(member=session.member) if is_owner else {}
        for item in day.exercises.all() if day else []:
            done = sets_by_item.get(item.pk, [])
            load = (item.prescription.get("load") or {}).get("kg")
            if load is None and "percent_of_max" in (item.prescription.get("load") or {}):
                known = maxes.get(item.exercise_id)
                if known:
                    load = target_kg(item.prescription["load"]["percent_of_max"], known)
            reps = item.prescription.get("reps")
            planned.append(
                {
                    "item": item,
                    "summary": describe(item.prescription, max_kg=maxes.get(item.exercise_id)),
                    "done": done,
                    "form": SetForm(
                        initial={
                            "client_id": uuid.uuid4(),
                            "plan_exercise": item.pk,
                            "set_number": len(done) + 1,
                            "reps": reps["max"] if isinstance(reps, dict) else reps,
                            "load_kg": load,
                        },
                        auto_id=f"x{item.pk}_%s",
                    ),
                }
            )
    context = {
        "session": session,
        "member": session.member,
        "role": role,
        "is_owner": is_owner,
        "planned": planned,
        "free_form": SetForm(
            initial={"client_id": uuid.uuid4(), "set_number": len(session.sets.all()) + 1},
            auto_id="free_%s",
        ),
        "finish_form": FinishForm(initial={"notes": session.notes}),
        "comment_form": CommentForm(),
        "base_template": _base(request) if not is_owner else "portal/base.html",
    }
    return render(request, "training/workout.html", context)


@login_required
@require_POST
def workout_finish(request, pk):
    member = _member(request)
    session = get_object_or_404(WorkoutSession, pk=pk, member=member)
    form = FinishForm(request.POST)
    if form.is_valid():
        services.workout_finish(session=session, notes=form.cleaned_data["notes"])
        messages.success(request, _("Workout saved. Well done!"))
    return redirect("training:workout", pk=session.pk)


@login_required
@require_POST
def workout_comment(request, pk):
    _gym(request)
    session = get_object_or_404(
        WorkoutSession.objects.select_related("member"),
        pk=pk,
        member__in=selectors.visible_members(user=request.user),
    )
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.workout_comment_add(
                session=session, author=request.user, body=form.cleaned_data["body"]
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Comment added."))
    return redirect("training:workout", pk=session.pk)


@login_required
def history(request):
    member = _member(request)
    if member is None:
        return redirect("portal:join")
    return render(
        request,
        "training/history.html",
        {"sessions": selectors.member_sessions(member=member, limit=50)},
    )


@login_required
def progress(request):
    member = _member(request)
    if member is None:
        return redirect("portal:join")
    form = MetricForm(request.POST or None, initial={"measured_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.metric_record(member=member, actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Measurement saved."))
            return redirect("training:progress")
    kind = request.GET.get("kind") or MetricKind.WEIGHT
    if kind not in MetricKind.values:
        kind = MetricKind.WEIGHT
    context = {
        "member": member,
        "form": form,
        "latest": selectors.latest_metrics(member=member),
        "records": selectors.member_records(member=member),
        "streak": selectors.attendance_streak(member=member),
        "kinds": MetricKind.choices,
        "metric_unit": METRIC_UNITS.get(kind, ""),
        **_charts(
            member=member,
            exercise_id=_int(request.GET.get("exercise")),
            kind=kind,
            custom_type_id=_int(request.GET.get("custom")),
        ),
    }
    return render(request, "training/progress.html", context)


@login_required
def photos(request):
    member = _member(request)
    if member is None:
        return redirect("portal:join")
    form = PhotoForm(
        request.POST or None, request.FILES or None, initial={"taken_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        services.photo_upload(member=member, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Photo saved. Only you and your trainers can see it."))
        return redirect("training:photos")
    return render(
        request,
        "training/photos.html",
        {"form": form, "photos": ProgressPhoto.objects.filter(member=member)[:60]},
    )


@login_required
def photo(request, pk):
    """A progress photo, for the member and those who may see their data only. On S3
    the answer is a redirect to a presigned address that expires in minutes."""
    _gym(request)
    item = get_object_or_404(
        ProgressPhoto, pk=pk, member__in=selectors.visible_members(user=request.user)
    )
    if settings.STORAGE_BACKEND == "s3":
        return HttpResponseRedirect(default_storage.url(item.image.name, expire=PHOTO_URL_SECONDS))
    response = FileResponse(default_storage.open(item.image.name, "rb"))
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def nutrition(request):
    member = _member(request)
    if member is None:
        return redirect("portal:join")
    form = NutritionLogForm(request.POST or None, initial={"day": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        services.nutrition_log_save(member=member, **form.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect("training:nutrition")
    return render(
        request,
        "training/nutrition.html",
        {
            "form": form,
            "target": selectors.nutrition_target(member=member),
            "logs": selectors.nutrition_logs(member=member),
        },
    )


@login_required
def exercises(request):
    _gym(request)
    form = ExerciseFilterForm(request.GET or None)
    found = Exercise.objects.none()
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        found = selectors.exercise_search(
            query=data.get("q", ""),
            category=data.get("category", ""),
            muscle=data.get("muscle", ""),
            equipment=data.get("equipment", ""),
        )
    return render(
        request,
        "training/exercises.html",
        {"form": form, "exercises": found[:200], "base_template": _base(request)},
    )


@login_required
def exercise_detail(request, pk):
    _gym(request)
    exercise = get_object_or_404(Exercise, pk=pk, is_active=True)
    return render(
        request,
        "training/exercise_detail.html",
        {"exercise": exercise, "base_template": _base(request)},
    )


@login_required
def my_plans(request):
    """The member's assigned plans and the ones they build for themselves."""
    member = _member(request)
    if member is None:
        return redirect("portal:join")
    form = PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        plan = services.plan_create(member=member, actor=request.user, **form.cleaned_data)
        services.plan_assign(
            plan=plan,
            member=member,
            trainer=None,
            starts_on=timezone.localdate(),
            actor=request.user,
        )
        return redirect("training:plan", pk=plan.pk)
    return render(
        request,
        "training/my_plans.html",
        {
            "assignments": selectors.member_assignments(member=member),
            "form": form,
        },
    )


# --- plan builder (trainers, and members for their own plans) -------------------------


def _editable_plan(request, pk) -> Plan:
    _gym(request)
    plan = selectors.editable_plan(user=request.user, plan_id=pk)
    if plan is None:
        raise Http404
    return plan


@login_required
def plan(request, pk):
    plan = _editable_plan(request, pk)
    trainer = trainer_for_user(user=request.user)
    action = request.POST.get("action") if request.method == "POST" else None
    day_form = PlanDayForm(request.POST if action == "day" else None)
    item_form = PrescriptionForm(request.POST if action == "exercise" else None)
    members = Member.objects.none()
    if trainer is not None:
        members = _assignable_members(trainer)
    assign_form = AssignForm(
        request.POST if action == "assign" else None,
        members=members,
        initial={"starts_on": timezone.localdate()},
    )
    try:
        if action == "day" and day_form.is_valid():
            services.plan_day_add(plan=plan, actor=request.user, **day_form.cleaned_data)
            return redirect("training:plan", pk=plan.pk)
        if action == "exercise" and item_form.is_valid():
            day = get_object_or_404(PlanDay, pk=_int(request.POST.get("day")), version__plan=plan)
            data = item_form.cleaned_data
            services.plan_exercise_add(
                plan=plan,
                day=day,
                exercise=data["exercise"],
                prescription=data["prescription"],
                superset=data["superset"],
                actor=request.user,
            )
            messages.success(request, _("Exercise added."))
            return redirect("training:plan", pk=plan.pk)
        if action == "remove":
            item = get_object_or_404(
                PlanExercise.objects.select_related("day"),
                pk=_int(request.POST.get("item")),
                day__version__plan=plan,
            )
            services.plan_exercise_remove(plan=plan, item=item, actor=request.user)
            return redirect("training:plan", pk=plan.pk)
        if action == "assign" and trainer is not None and assign_form.is_valid():
            assignment = services.plan_assign(
                plan=plan, trainer=trainer, actor=request.user, **assign_form.cleaned_data
            )
            messages.success(
                request,
                _("Assigned to %(name)s.") % {"name": assignment.member.full_name},
            )
            return redirect("training:client", member_id=assignment.member_id)
    except ServiceError as exc:
        target = {"day": day_form, "exercise": item_form, "assign": assign_form}.get(action)
        if target is not None:
            _form_error(target, exc)
        else:
            messages.error(request, exc.message)
    plan.refresh_from_db(fields=["current_version"])
    days = selectors.version_days(version_id=plan.current_version_id)
    for day in days:
        for item in day.exercises.all():
            item.summary = describe(item.prescription)
    return render(
        request,
        "training/plan.html",
        {
            "plan": plan,
            "version": plan.current_version,
            "days": days,
            "day_form": day_form,
            "item_form": item_form,
            "assign_form": assign_form if trainer else None,
            "posted_day": _int(request.POST.get("day")) if action == "exercise" else None,
            "base_template": "trainer/base.html" if trainer else "portal/base.html",
        },
    )


def _assignable_members(trainer):
    """A trainer assigns plans to their clients and to members of their branches."""
    branch_ids = list(trainer.branches.values_list("pk", flat=True))
    return Member.objects.filter(status=Member.Status.ACTIVE).filter(
        **({"home_branch_id__in": branch_ids} if branch_ids else {})
    ) | Member.objects.filter(pk__in=selectors.trainer_client_ids(trainer=trainer))


# --- trainer pages --------------------------------------------------------------------


@login_required
def clients(request):
    trainer = _trainer(request)
    return render(
        request,
        "training/clients.html",
        {"trainer": trainer, "clients": selectors.trainer_clients(trainer=trainer)},
    )


@login_required
def client(request, member_id):
    """A client's training, for their trainer (and the managers of their branch)."""
    _gym(request)
    member = get_object_or_404(
        selectors.visible_members(user=request.user).select_related("home_branch"), pk=member_id
    )
    role = selectors.viewer_of(user=request.user, member=member)
    if role == "self":
        return redirect("training:progress")
    trainer = trainer_for_user(user=request.user)
    target_form = NutritionTargetForm(
        request.POST or None, initial={"starts_on": timezone.localdate()}
    )
    if request.method == "POST" and target_form.is_valid():
        services.nutrition_target_set(
            member=member, trainer=trainer, actor=request.user, **target_form.cleaned_data
        )
        messages.success(request, _("Nutrition targets saved."))
        return redirect("training:client", member_id=member.pk)
    context = {
        "member": member,
        "assignments": list(selectors.member_assignments(member=member)[:5]),
        "sessions": selectors.member_sessions(member=member, limit=10),
        "records": selectors.member_records(member=member),
        "latest": selectors.latest_metrics(member=member),
        "streak": selectors.attendance_streak(member=member),
        "target": selectors.nutrition_target(member=member),
        "target_form": target_form,
        "photos": list(ProgressPhoto.objects.filter(member=member)[:12]),
        "comment_form": CommentForm(),
        "base_template": "trainer/base.html" if trainer else "portal/base.html",
        **_charts(member=member, exercise_id=_int(request.GET.get("exercise"))),
    }
    return render(request, "training/client.html", context)


@login_required
def coach_plans(request):
    trainer = _trainer(request)
    form = TrainerPlanForm(request.POST or None, members=_assignable_members(trainer))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        plan = services.plan_create(
            name=data["name"],
            description=data["description"],
            is_template=data["is_template"],
            member=data["member"],
            trainer=trainer,
            actor=request.user,
        )
        return redirect("training:plan", pk=plan.pk)
    return render(
        request,
        "training/coach_plans.html",
        {"plans": selectors.plans_for_trainer(trainer=trainer), "form": form},
    )


@login_required
def exercise_new(request):
    _trainer(request)
    form = ExerciseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            exercise = services.exercise_create(actor=request.user, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Exercise added to your gym's library."))
            return redirect("training:exercise", pk=exercise.pk)
    return render(request, "training/exercise_form.html", {"form": form})
