from accounts.selectors import organisation_for_host, organisation_for_user
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
        organisation = organisation_for_host(host=request.get_host())
        if organisation is None:
            organisation = organisation_for_user(user=request.user)
        request.organisation = organisation
        token = set_scope(TenantScope(organisation.pk) if organisation else None)
        try:
            return self.get_response(request)
        finally:
            reset_scope(token)
