from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.models import Organisation
from accounts.selectors import (
    GYM_SESSION_KEY,
    organisation_for_user,
    organisation_id_for_host,
    user_organisation_ids,
)
from accounts.tenancy import TenantScope, reset_scope, set_scope


class TenantMiddleware:
    """Puts the request's organisation in scope: by host name, else the single
    organisation of a one-gym deployment, else the signed-in person's only gym, else
    the one of their gyms they chose with the gym switcher (kept in the session).

    Member and public pages see the whole organisation; the admin narrows the scope
    to a staff member's branches (``accounts.admin_site``), and so do staff API views.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organisation_id = organisation_id_for_host(host=request.get_host())
        if organisation_id is not None:
            # The hot paths (door check-ins, API) need only the id: load the row lazily.
            request.organisation = SimpleLazyObject(
                lambda: Organisation.objects.get(pk=organisation_id)
            )
        else:
            session = getattr(request, "session", None)
            request.organisation = organisation_for_user(
                user=request.user,
                chosen_id=session.get(GYM_SESSION_KEY) if session is not None else None,
            )
            organisation_id = request.organisation.pk if request.organisation else None
            if organisation_id is None and _needs_gym_choice(request):
                return redirect_to_login(
                    request.get_full_path(), reverse("portal:gyms"), REDIRECT_FIELD_NAME
                )
        token = set_scope(TenantScope(organisation_id) if organisation_id else None)
        try:
            return self.get_response(request)
        finally:
            reset_scope(token)


_NO_CHOICE_PREFIXES = ("/api/", "/accounts/", "/static/", "/media/", "/healthz", "/gyms/")


def _needs_gym_choice(request) -> bool:
    """A signed-in person of several gyms on a shared host opens a gym's page before
    choosing one: the switcher asks (instead of "no gym here")."""
    return (
        request.method == "GET"
        and request.user.is_authenticated
        and not request.path_info.startswith(_NO_CHOICE_PREFIXES)
        and len(user_organisation_ids(user=request.user)) > 1
    )


class GymTimezoneMiddleware:
    """Pages show and take times in the gym's own time zone (its default; a page about
    one branch's classes uses that branch's zone for them). The API answers in UTC
    with offsets, and the back office chooses its own (``SpotterAdminSite``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organisation = getattr(request, "organisation", None)
        if organisation is None or request.path_info.startswith(_OWN_ZONE_PREFIXES):
            return self.get_response(request)
        # The handler renders template responses inside this call, so in this zone.
        with timezone.override(organisation.default_timezone):
            return self.get_response(request)


_OWN_ZONE_PREFIXES = ("/api/", "/admin/", "/static/", "/media/")
