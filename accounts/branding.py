"""A gym's look: brand colours checked for contrast, and the colours derived from them.

The owner picks a colour; buttons print their label on it in white or near-black,
whichever reads better (one of the two always reaches WCAG AA's 4.5:1), and links use
the colour darkened (light pages) or lightened (dark mode) until they reach 4.5:1
against the page. So any colour the owner chooses keeps every page readable.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE, INK = "#ffffff", "#000000"
LIGHT_SURFACE, DARK_SURFACE = "#ffffff", "#171b22"
AA = 4.5


def validate_colour(value: str) -> None:
    if not HEX_COLOUR.match(value or ""):
        raise ValidationError(
            _("Enter a colour as # and six hexadecimal digits, e.g. #0b5cad."), code="colour"
        )


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _hex(rgb) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_for(background: str) -> str:
    """White or near-black text, whichever contrasts more with ``background``."""
    return WHITE if contrast(background, WHITE) >= contrast(background, INK) else INK


def readable_on(colour: str, surface: str) -> str:
    """``colour`` mixed towards black or white until it reaches AA on ``surface``."""
    target = (0, 0, 0) if luminance(surface) > 0.5 else (255, 255, 255)
    base = _rgb(colour)
    for step in range(21):
        t = step / 20
        mixed = _hex(c + (d - c) * t for c, d in zip(base, target, strict=True))
        if contrast(mixed, surface) >= AA:
            return mixed
    return _hex(target)


def palette(*, primary: str, accent: str) -> dict[str, str]:
    """CSS custom properties for a gym's colours."""
    return {
        "--brand": primary,
        "--brand-ink": ink_for(primary),
        "--accent": accent,
        "--accent-ink": ink_for(accent),
        "--link-light": readable_on(primary, LIGHT_SURFACE),
        "--link-dark": readable_on(primary, DARK_SURFACE),
    }


def email_brand(organisation_id: int) -> dict:
    """The header of a gym's emails: its name, colour and logo (an absolute address)."""
    from django.apps import apps
    from django.conf import settings

    organisation = (
        apps.get_model("accounts", "Organisation").objects.filter(pk=organisation_id).first()
    )
    if organisation is None:
        return {}
    logo_url = ""
    if organisation.logo:
        logo_url = organisation.logo.url
        if logo_url.startswith("/"):
            logo_url = settings.SITE_URL.rstrip("/") + logo_url
    return {
        "name": organisation.name,
        "rule": "=" * len(organisation.name),
        "colour": organisation.brand_colour,
        "ink": ink_for(organisation.brand_colour),
        "logo_url": logo_url,
    }
