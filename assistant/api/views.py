from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organisation
from accounts.tenancy import get_scope
from assistant import services
from assistant.api.serializers import AskSerializer, ReplySerializer
from gymsite.api.serializers import validated_input
from gymsite.errors import NotAllowed


class AssistantView(APIView):
    @extend_schema(request=AskSerializer, responses=ReplySerializer)
    def post(self, request):
        """Ask the gym's assistant; or, with `confirm`, do the action it proposed."""
        data = validated_input(AskSerializer, request.data)
        scope = get_scope()
        if scope is None:
            raise NotAllowed("You are not a member of this gym.", code="not_member")
        caller = services.caller_for(
            user=request.user,
            organisation=Organisation.objects.get(pk=scope.organisation_id),
            role=data.get("role"),
        )
        if data.get("confirm"):
            reply = services.assistant_confirm(caller=caller, token=data["confirm"])
        else:
            reply = services.assistant_ask(
                caller=caller, message=data["message"], history=data.get("history")
            )
        return Response(ReplySerializer(asdict(reply)).data)
