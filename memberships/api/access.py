"""The API's caller, with the memberships it may act on."""

from __future__ import annotations

from django.http import Http404

from accounts.api.caller import CallerMixin
from memberships.models import Membership


class MembershipCallerMixin(CallerMixin):
    def membership_or_404(self, pk) -> Membership:
        membership = (
            Membership.objects.select_related("plan", "member__home_branch", "payer")
            .filter(pk=pk)
            .first()
        )
        if membership is None or not self.caller.may_act_for(membership.member):
            raise Http404
        return membership
