from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.models import Organisation
from accounts.selectors import organisation_for_user, organisation_id_for_host
from accounts.tenancy import TenantScope, reset_scope, set_scope


class TenantMiddleware:
    """Puts the request's organisation in scope: by host name, else the single
    organisation of a one-gym deployment, else the signed-in person's only gym.

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
            request.organisation = organisation_for_user(user=request.user)
            organisation_id = request.organisation.pk if request.organisation else None
        token = set_scope(TenantScope(organisation_id) if organisation_id else None)
        try:
            return self.get_response(request)
        finally:
            reset_scope(token)


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
