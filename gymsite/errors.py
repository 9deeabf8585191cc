"""Errors that services raise for anything a user or device can get wrong.

Views turn them into a form error or a message; the API turns them into a 400
(or the status given) with the one error format (``gymsite.api.errors``).
"""


class ServiceError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field


class NotAllowed(ServiceError):
    status_code = 403
    default_code = "not_allowed"


class Conflict(ServiceError):
    status_code = 409
    default_code = "conflict"


class TenantScopeMissing(RuntimeError):
    """A tenant-owned model was queried with no organisation in scope.

    Declared here, on the ground floor, so the API's error format can answer it
    without knowing about accounts, where the tenancy that raises it lives.
    """
