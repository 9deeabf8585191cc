"""Phone numbers as the world writes them, stored as E.164 (+447700900000)."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def phone_e164(raw: str, *, region: str = "GB") -> str:
    """``raw`` as E.164, read in ``region`` when it has no +country code; ``""`` for
    blank; ``ValidationError`` for anything that is not a real number."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, (region or "GB").upper())
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a real phone number, e.g. 020 7946 0018 or +45 20 12 34 56."),
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
