"""The training API: the member's own data, or (``?member=<id>``) a client's for the
trainers and managers the privacy rule lets see it (``selectors.visible_members``).
Anyone else gets a 404, as if the member did not exist."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Member
from accounts.selectors import member_for_user
from gymsite.api.serializers import validated_input
from gymsite.errors import NotAllowed, ServiceError
from training import selectors, services
from training.api.serializers import (
    ExerciseSerializer,
    LogSetSerializer,
    MetricInputSerializer,
    MetricSerializer,
    PlanExerciseInputSerializer,
    PlanExerciseSerializer,
    RecordSerializer,
    SetSerializer,
    TodaySerializer,
    WorkoutPlanDetailSerializer,
    WorkoutPlanSerializer,
    WorkoutSerializer,
    WorkoutStartSerializer,
    WorkoutSyncSerializer,
)
from training.models import BodyMetric, MetricType, Plan, PlanDay, WorkoutSession

MEMBER_PARAM = OpenApiParameter(
    "member",
    OpenApiTypes.INT,
    description="A client's id (trainers and managers); default: the signed-in member.",
)


def own_member(request) -> Member:
    member = member_for_user(user=request.user)
    if member is None:
        raise NotAllowed(_("You are not a member of this gym."), code="not_member")
    return member


def subject_member(request) -> Member:
    """The member whose data is asked for, if the caller may see it."""
    raw = request.query_params.get("member")
    if raw in (None, ""):
        return own_member(request)
    try:
        member_id = int(raw)
    except ValueError:
        raise ServiceError(_("A member id is a number."), field="member") from None
    member = selectors.visible_members(user=request.user).filter(pk=member_id).first()
    if member is None:
        raise Http404
    return member


@extend_schema(
    parameters=[
        OpenApiParameter("q", OpenApiTypes.STR),
        OpenApiParameter("category", OpenApiTypes.STR),
        OpenApiParameter("muscle", OpenApiTypes.STR),
        OpenApiParameter("equipment", OpenApiTypes.STR),
    ]
)
class ExerciseListView(generics.ListAPIView):
    """The exercise library: the shared starter exercises and the gym's own."""

    serializer_class = ExerciseSerializer
    filter_backends = []

    def get_queryset(self):
        params = self.request.query_params
        return selectors.exercise_search(
            query=params.get("q", "")[:100],
            category=params.get("category", ""),
            muscle=params.get("muscle", ""),
            equipment=params.get("equipment", ""),
        )


@extend_schema(parameters=[MEMBER_PARAM])
class PlanListView(generics.ListAPIView):
    """The member's plans (assigned or their own)."""

    serializer_class = WorkoutPlanSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Plan.objects.none()
        member = subject_member(self.request)
        return (
            Plan.objects.filter(member=member)
            .select_related("trainer", "current_version")
            .order_by("name")
        )


class PlanDetailView(APIView):
    """One plan as it is now (its current version), days and exercises in order."""

    @extend_schema(responses=WorkoutPlanDetailSerializer)
    def get(self, request, pk):
        members = selectors.visible_members(user=request.user)
        plan = (
            Plan.objects.filter(pk=pk, member__in=members)
            .select_related("trainer", "current_version")
            .first()
        )
        if plan is None:
            raise Http404
        days = selectors.version_days(version_id=plan.current_version_id)
        return Response(WorkoutPlanDetailSerializer(plan, context={"days": days}).data)


class TodayView(APIView):
    """Today's workout: the plan day due today, its prescriptions, the sets done so far."""

    @extend_schema(responses=TodaySerializer)
    def get(self, request):
        today = selectors.today_workout(member=own_member(request))
        return Response(TodaySerializer(today).data)


class WorkoutStartView(APIView):
    """Start a workout (a plan day, or free). Sending the same ``client_id`` again
    returns the same workout with 200."""

    @extend_schema(request=WorkoutStartSerializer, responses=WorkoutSerializer)
    def post(self, request):
        data = validated_input(WorkoutStartSerializer, request.data)
        member = own_member(request)
        existed = WorkoutSession.objects.filter(client_id=data["client_id"]).exists()
        session = services.workout_start(member=member, **data)
        return Response(
            WorkoutSerializer(session).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class WorkoutSyncView(APIView):
    """A workout done offline, sent later with all its sets (safe to send again)."""

    @extend_schema(request=WorkoutSyncSerializer, responses=WorkoutSerializer)
    def post(self, request):
        data = validated_input(WorkoutSyncSerializer, request.data)
        member = own_member(request)
        session, logged = services.workout_sync(member=member, **data)
        created = any(entry.created for entry in logged)
        return Response(
            WorkoutSerializer(session).data | {"sets_recorded": sum(e.created for e in logged)},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SetLogView(APIView):
    """Log one set. Idempotent: the same ``client_id`` is recorded once (201 the first
    time, 200 with the recorded set after). Any records it set are listed."""

    @extend_schema(request=LogSetSerializer, responses=SetSerializer)
    def post(self, request):
        data = dict(validated_input(LogSetSerializer, request.data))
        member = own_member(request)
        session = WorkoutSession.objects.filter(
            client_id=data.pop("workout"), member=member
        ).first()
        if session is None:
            raise ServiceError(_("Start the workout first."), code="no_workout", field="workout")
        logged = services.set_log(session=session, **data)
        body = SetSerializer(logged.set_log).data | {
            "records": RecordSerializer(logged.records, many=True).data
        }
        return Response(
            body, status=status.HTTP_201_CREATED if logged.created else status.HTTP_200_OK
        )


@extend_schema(parameters=[MEMBER_PARAM])
class MetricListView(generics.ListCreateAPIView):
    """Body metrics (newest first); POST records one (lb and in are converted)."""

    serializer_class = MetricSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BodyMetric.objects.none()
        return BodyMetric.objects.filter(member=subject_member(self.request)).select_related(
            "custom_type"
        )

    @extend_schema(request=MetricInputSerializer, responses=MetricSerializer)
    def post(self, request, *args, **kwargs):
        data = dict(validated_input(MetricInputSerializer, request.data))
        member = subject_member(request)
        custom_id = data.pop("custom_type", None)
        custom = None
        if custom_id is not None:
            custom = MetricType.objects.filter(pk=custom_id, is_active=True).first()
            if custom is None:
                raise ServiceError(_("Unknown measurement."), field="custom_type")
        metric = services.metric_record(
            member=member, custom_type=custom, actor=request.user, **data
        )
        return Response(MetricSerializer(metric).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[MEMBER_PARAM])
class RecordListView(generics.ListAPIView):
    """Personal records: heaviest load, best estimated 1RM, most reps at a load,
    longest distance, per exercise."""

    serializer_class = RecordSerializer
    filter_backends = []
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return []
        return selectors.member_records(member=subject_member(self.request))


@extend_schema(parameters=[MEMBER_PARAM])
class WorkoutListView(generics.ListAPIView):
    serializer_class = WorkoutSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WorkoutSession.objects.none()
        return WorkoutSession.objects.filter(member=subject_member(self.request)).order_by(
            "-started_at"
        )


class PlanExerciseAddView(APIView):
    """Add an exercise to a day of a plan (the plan's trainer, any trainer for a
    template, or the member for a plan of their own). A bad prescription is a 400
    naming what is wrong; after a logged workout the edit makes a new version."""

    @extend_schema(request=PlanExerciseInputSerializer, responses=PlanExerciseSerializer)
    def post(self, request, pk):
        plan = selectors.editable_plan(user=request.user, plan_id=pk)
        if plan is None:
            raise Http404
        data = validated_input(PlanExerciseInputSerializer, request.data)
        day = PlanDay.objects.filter(pk=data["day"], version__plan=plan).first()
        if day is None:
            raise ServiceError(_("This day is not in the plan."), field="day")
        item = services.plan_exercise_add(
            plan=plan,
            day=day,
            exercise=data["exercise"],
            prescription=data["prescription"],
            superset=data["superset"],
            actor=request.user,
        )
        return Response(PlanExerciseSerializer(item).data, status=status.HTTP_201_CREATED)
