"""What each staff role may do, as Django permissions ("app_label.codename" patterns).

``accounts.backends.RoleBackend`` grants these inside the organisation in scope,
so the admin's ordinary permission checks follow a person's roles in that gym.
"""

from accounts.models import Role

_SPOTTER_APPS = (
    "accounts",
    "memberships",
    "classes",
    "bookings",
    "billing",
    "access",
    "inventory",
    "training",
    "assistant",
    "staff",
    "reports",
)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.OWNER: tuple(f"{app}.*" for app in _SPOTTER_APPS),
    Role.BRANCH_MANAGER: (
        "accounts.view_branch",
        "accounts.change_branch",
        "accounts.*_openinghours",
        "accounts.*_member",
        "accounts.view_trainerprofile",
        "accounts.view_roleassignment",
        "accounts.view_auditlog",
        "memberships.view_*",
        "memberships.add_membership",
        "memberships.change_membership",
        "classes.*",
        "bookings.*",
        "billing.view_*",
        "billing.add_payment",
        "billing.add_refund",
        "billing.change_invoice",
        "access.*",
        "inventory.*",
        # Managers see their branch's members' training; the front desk never does.
        "training.*",
        "assistant.view_assistantlog",
        "staff.*",
        "reports.*",
    ),
    Role.FRONT_DESK: (
        "accounts.view_branch",
        "accounts.view_member",
        "accounts.add_member",
        "accounts.change_member",
        "accounts.view_trainerprofile",
        "memberships.view_*",
        "memberships.add_membership",
        "classes.view_*",
        "bookings.view_*",
        "bookings.add_booking",
        "bookings.change_booking",
        "billing.view_*",
        "billing.add_payment",
        "access.view_*",
        "access.add_accesslog",
        "inventory.view_*",
        "inventory.add_sale",
        "inventory.add_order",
        "inventory.change_order",
        "staff.view_shift",
        "staff.change_shift",
    ),
    Role.TRAINER: (),
}
