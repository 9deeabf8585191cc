from datetime import date, timedelta

from rest_framework import serializers

from accounts.models import Branch, Member
from memberships.models import Membership, Plan


class PlanSerializer(serializers.ModelSerializer):
    branches = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    class_categories = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "name",
            "description",
            "kind",
            "price",
            "currency",
            "signup_fee",
            "intro_price",
            "billing_interval",
            "interval_count",
            "auto_renew",
            "minimum_term_months",
            "notice_period_days",
            "duration_days",
            "credits",
            "credit_validity_days",
            "class_categories",
            "entries",
            "valid_from",
            "valid_until",
            "branches",
            "access_from",
            "access_until",
            "weekly_attendance_limit",
            "min_freeze_days",
            "max_freeze_days_per_year",
            "max_freezes_per_year",
            "features",
        ]


class PlanBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = ["id", "name", "kind"]


class MembershipSerializer(serializers.ModelSerializer):
    plan = PlanBriefSerializer(read_only=True)
    next_charge_date = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = [
            "id",
            "member",
            "payer",
            "plan",
            "status",
            "start_date",
            "end_date",
            "current_period_start",
            "current_period_end",
            "auto_renew",
            "price",
            "currency",
            "credits_remaining",
            "entries_remaining",
            "cancels_on",
            "next_charge_date",
        ]

    def get_next_charge_date(self, obj) -> date | None:
        if (
            obj.auto_renew
            and obj.current_period_end
            and obj.status in (Membership.Status.ACTIVE, Membership.Status.FROZEN)
            and not (obj.cancels_on and obj.cancels_on <= obj.current_period_end)
        ):
            return obj.current_period_end + timedelta(days=1)
        return None


class MemberDetailSerializer(serializers.ModelSerializer):
    membership = MembershipSerializer(read_only=True, allow_null=True)
    memberships = MembershipSerializer(source="all_memberships", many=True, read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "home_branch",
            "payer",
            "status",
            "membership",
            "memberships",
        ]


class _ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """Builds its queryset per request from the model's scoped manager.

    A class-level queryset built while a tenant scope is active (a lazy URLconf import
    during a request) would keep that gym's filter for every later request.
    """

    def __init__(self, model, *, filters=None, **kwargs):
        self.model, self.filters = model, filters or {}
        super().__init__(queryset=model._default_manager, **kwargs)

    def get_queryset(self):
        return self.model._default_manager.filter(**self.filters)


class PurchaseSerializer(serializers.Serializer):
    plan = _ScopedRelatedField(Plan, required=False, help_text="The plan to buy.")
    renew = _ScopedRelatedField(
        Membership,
        required=False,
        help_text="Buy the plan of this (ended or ending) membership again.",
    )
    branch = _ScopedRelatedField(Branch, filters={"is_active": True}, required=False)
    start_date = serializers.DateField(required=False)

    def validate(self, attrs):
        if bool(attrs.get("plan")) == bool(attrs.get("renew")):
            raise serializers.ValidationError({"plan": ["Give either plan or renew."]})
        return attrs


class InvoiceBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(source="display_number")
    status = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount_due = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class PurchaseResultSerializer(serializers.Serializer):
    membership = MembershipSerializer()
    invoice = InvoiceBriefSerializer(allow_null=True)


class FreezeSerializer(serializers.Serializer):
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)
    immediately = serializers.BooleanField(default=False, help_text="Staff only.")


class CancellationPreviewSerializer(serializers.Serializer):
    immediate = serializers.BooleanField()
    last_day = serializers.DateField()
    notice_ends = serializers.DateField(allow_null=True)
    minimum_term_ends = serializers.DateField(allow_null=True)
    remaining_payments = serializers.IntegerField()
    remaining_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    explanation = serializers.ListField(child=serializers.CharField())
