from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from assistant.services import MAX_HISTORY, MAX_HISTORY_ITEM, MAX_MESSAGE


class HistoryItemSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["user", "assistant"])
    content = serializers.CharField(max_length=MAX_HISTORY_ITEM, trim_whitespace=False)


class AskSerializer(serializers.Serializer):
    message = serializers.CharField(
        max_length=MAX_MESSAGE, required=False, allow_blank=True, help_text=_("The question.")
    )
    history = HistoryItemSerializer(
        many=True,
        required=False,
        max_length=MAX_HISTORY,
        help_text=_("The conversation so far, oldest first (the server keeps none)."),
    )
    confirm = serializers.CharField(
        required=False,
        max_length=4000,
        help_text=_("A confirmation token from a previous answer: do that action now."),
    )
    role = serializers.ChoiceField(
        choices=["member", "trainer", "staff"],
        required=False,
        help_text=_("Ask as this role, for people who hold several."),
    )

    def validate(self, attrs):
        if not attrs.get("confirm") and not (attrs.get("message") or "").strip():
            raise serializers.ValidationError({"message": _("Ask a question.")})
        return attrs


class ConfirmationSerializer(serializers.Serializer):
    token = serializers.CharField()
    summary = serializers.CharField()
    action = serializers.CharField()
    expires_in_seconds = serializers.IntegerField()


class ReplySerializer(serializers.Serializer):
    answer = serializers.CharField()
    engine = serializers.CharField()
    outcome = serializers.CharField()
    confirmation = ConfirmationSerializer(allow_null=True)
    classes = serializers.ListField(child=serializers.DictField())
    tools = serializers.ListField(child=serializers.CharField())
