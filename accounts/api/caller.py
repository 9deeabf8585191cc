"""Who may act for whom through the API: members for themselves and their household,
staff for members of their branches (owners: every member)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from accounts.models import Member
from accounts.selectors import is_staff_in, member_for_user, member_may_act_for, staff_scope_for
from accounts.tenancy import TenantScope, get_scope, reset_scope, set_scope


@dataclass(frozen=True)
class Caller:
    member: Member | None
    staff_scope: TenantScope | None

    @property
    def is_staff(self) -> bool:
        return self.staff_scope is not None

    def may_act_for(self, member: Member) -> bool:
        if self.staff_scope is not None:
            return self.staff_scope.allows_branch(member.home_branch_id)
        return member_may_act_for(actor=self.member, member=member)


class CallerMixin:
    """Resolves the caller once per request; staff work inside their staff scope."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._scope_token = None
        scope = get_scope()
        if scope is None:
            raise Http404
        staff_scope = None
        if is_staff_in(user=request.user, organisation_id=scope.organisation_id):
            staff_scope = staff_scope_for(user=request.user, organisation_id=scope.organisation_id)
            self._scope_token = set_scope(staff_scope)
        self.caller = Caller(member=member_for_user(user=request.user), staff_scope=staff_scope)

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_scope_token", None)
        if token is not None:
            reset_scope(token)
            self._scope_token = None
        return super().finalize_response(request, response, *args, **kwargs)

    def member_or_404(self, pk) -> Member:
        member = Member.objects.select_related("home_branch").filter(pk=pk).first()
        if member is None or not self.caller.may_act_for(member):
            raise Http404
        return member
