"""Stripe decline codes in plain words, and what they mean for retrying.

``HARD_DECLINES``: the card must never be charged again (reported lost or stolen,
fraud, closed account). The saved card is switched off, so dunning retries do not
touch it and the member is asked for a new card; every other decline (insufficient
funds, a temporary issuer problem) is retried on the dunning schedule.
"""

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "insufficient_funds": _("The card has insufficient funds."),
    "card_declined": _("The card was declined by the bank."),
    "generic_decline": _("The card was declined by the bank."),
    "do_not_honor": _("The bank declined the payment without giving a reason."),
    "expired_card": _("The card has expired."),
    "incorrect_cvc": _("The card's security code is wrong."),
    "incorrect_number": _("The card number is wrong."),
    "processing_error": _("The bank could not process the payment; it will be tried again."),
    "try_again_later": _("The bank asked us to try again later."),
    "card_velocity_exceeded": _("The card's spending limit has been reached."),
    "withdrawal_count_limit_exceeded": _("The card's spending limit has been reached."),
    "authentication_required": _(
        "The bank wants the card holder to confirm this payment: pay online to confirm it."
    ),
    "lost_card": _("The card was reported lost: add a new card."),
    "stolen_card": _("The card was reported stolen: add a new card."),
    "pickup_card": _("The bank has blocked this card: add a new card."),
    "restricted_card": _("The bank has blocked this card: add a new card."),
    "fraudulent": _("The payment was blocked as possibly fraudulent: add a new card."),
    "merchant_blacklist": _("The payment was blocked: add a new card."),
    "revocation_of_authorization": _("The card holder withdrew the authorisation: add a new card."),
    "revocation_of_all_authorizations": _(
        "The card holder withdrew the authorisation: add a new card."
    ),
    "stop_payment_order": _("The card holder stopped this payment: add a new card."),
    "account_closed": _("The card's account is closed: add a new card."),
    "no_payment_method": _("No saved card: pay online or at the front desk."),
}

HARD_DECLINES = frozenset(
    {
        "lost_card",
        "stolen_card",
        "pickup_card",
        "restricted_card",
        "fraudulent",
        "merchant_blacklist",
        "revocation_of_authorization",
        "revocation_of_all_authorizations",
        "stop_payment_order",
        "account_closed",
        "expired_card",
        "incorrect_number",
    }
)


def decline_message(code: str) -> str:
    return str(MESSAGES.get(code, _("The card was declined by the bank.")))


def is_hard_decline(code: str) -> bool:
    """The card itself is unusable: never retry it."""
    return code in HARD_DECLINES
