"""Security headers beyond Django's own: the Content Security Policy per area."""

from csp import constants as csp
from csp.middleware import CSPMiddleware, PolicyParts
from django.urls import reverse

# The back office (django-unfold) needs more than our pages: Alpine.js (its standard
# build) compiles x-data/x-on expressions with the Function constructor, and its
# templates carry style="" attributes, which nonces cannot allow. Scripts still run
# only from our origin or with the nonce: no 'unsafe-inline' for scripts anywhere.
ADMIN_POLICY = {
    "script-src": [csp.SELF, csp.NONCE, csp.UNSAFE_EVAL],
    "style-src": [csp.SELF, csp.UNSAFE_INLINE],
}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the admin's wider policy under the admin's URL."""

    _admin_prefix: str | None = None

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(self.admin_prefix()):
            parts.replace = {**ADMIN_POLICY, **(parts.replace or {})}
        return parts

    @classmethod
    def admin_prefix(cls) -> str:
        if cls._admin_prefix is None:
            cls._admin_prefix = reverse("admin:index")
        return cls._admin_prefix
