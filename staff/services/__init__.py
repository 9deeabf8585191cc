"""Staff writes, by topic; every name is importable from ``staff.services``."""

from staff.services.employment import OffboardingResult, employment_end, employment_start
from staff.services.invitations import (
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
)
from staff.services.payroll import (
    pay_line_adjust,
    pay_period_approve,
    pay_period_compute,
    pay_period_create,
    pay_period_lock,
    pay_period_reopen,
    pay_rate_create,
)
from staff.services.profiles import certifications_remind
from staff.services.shifts import (
    shift_clock_in,
    shift_clock_out,
    shift_correct,
    shift_plan,
    shifts_flag_missed_clock_out,
)

__all__ = [
    "OffboardingResult",
    "certifications_remind",
    "employment_end",
    "employment_start",
    "invitation_accept",
    "invitation_create",
    "invitation_resend",
    "invitation_revoke",
    "pay_line_adjust",
    "pay_period_approve",
    "pay_period_compute",
    "pay_period_create",
    "pay_period_lock",
    "pay_period_reopen",
    "pay_rate_create",
    "shift_clock_in",
    "shift_clock_out",
    "shift_correct",
    "shift_plan",
    "shifts_flag_missed_clock_out",
]
