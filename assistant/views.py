from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.selectors import is_staff_in, member_for_user, trainer_for_user


def _organisation(request):
    if getattr(request, "organisation", None) is None:
        raise Http404(_("No gym is served at this address."))
    return request.organisation


@login_required
def member_chat(request):
    """The chat panel in the member portal; it talks to POST /api/v1/assistant."""
    _organisation(request)
    if member_for_user(user=request.user) is None:
        raise Http404(_("You are not a member of this gym."))
    return render(
        request, "assistant/chat.html", {"base_template": "portal/base.html", "role": "member"}
    )


@login_required
def team_chat(request):
    """The chat panel for trainers and staff (their own tools)."""
    organisation = _organisation(request)
    is_trainer = trainer_for_user(user=request.user) is not None
    if is_staff_in(user=request.user, organisation_id=organisation.pk):
        role = "staff"
    elif is_trainer:
        role = "trainer"
    else:
        raise Http404(_("You are not on the team of this gym."))
    # Office staff who do not teach have no trainer pages: the plain layout, then.
    base = "trainer/base.html" if is_trainer else "base.html"
    return render(request, "assistant/chat.html", {"base_template": base, "role": role})
