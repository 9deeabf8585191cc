"""Access control state changes: devices, credentials, check-ins, offline uploads.

A check-in is one short transaction. For unlimited memberships it is a single
INSERT into the access log. For a limited-entry ticket it locks the membership row
(the first lock in the architecture's order), decides under the lock whether this
pass starts a new visit, consumes one entry with the conditional UPDATE of
``memberships.services.membership_consume_entry`` and inserts the log row.

Idempotency: a device sends a ``request_id`` with each attempt (and each offline
decision). The unique constraint on (device, request_id) decides: a retry racing
the original blocks on the index until the original commits, then fails, rolls
back whatever it did (an entry it consumed included) and answers with the
original's decision. No lookup-then-insert.
"""

from access.services.allowlist import (  # noqa: F401
    ALLOWLIST_OVERLAP,
    ALLOWLIST_VALID_FOR,
    allowlist_build,
)
from access.services.checkin import (  # noqa: F401
    CheckinOutcome,
    checkin_attempt,
    checkin_manual,
    checkin_mark_attended,
    checkin_member,
    checkout_member,
)
from access.services.credentials import (  # noqa: F401
    credential_card_register,
    credential_qr_for,
    credential_qr_rotate,
    credential_revoke,
)
from access.services.devices import (  # noqa: F401
    DeviceWithKey,
    address_flag,
    device_clear_flag,
    device_flag,
    device_register,
    device_revoke,
    device_rotate_key,
    device_touch,
)
from access.services.offline import (  # noqa: F401
    OfflineEvent,
    OfflineOutcome,
    offline_events_apply,
)
