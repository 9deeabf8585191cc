"""The installable app: a web app manifest and icons per gym, and the service worker.

Each gym is its own app on the member's phone (its name, colours and icon), because
the manifest is built from the organisation the request's host maps to. The service
worker is served from the site root so that its scope is the whole site.
"""

from __future__ import annotations

import io
import json

from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from PIL import Image, ImageDraw, ImageFont

ICON_SIZES = (192, 512)
# Bump when the worker's caching changes: a new version drops the old caches.
SW_VERSION = "3"


@require_GET
@cache_control(max_age=3600)
def manifest(request):
    organisation = getattr(request, "organisation", None)
    if organisation is None:
        raise Http404
    icons = [
        {
            "src": reverse("portal:app_icon", args=[size]),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any maskable",
        }
        for size in ICON_SIZES
    ]
    data = {
        "id": "/portal/",
        "name": organisation.name,
        "short_name": organisation.name[:12],
        "start_url": reverse("portal:home"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": organisation.brand_colour,
        "icons": icons,
        "shortcuts": [
            {"name": _("Entry code"), "url": reverse("access:my_code")},
            {"name": _("Classes"), "url": reverse("classes:schedule")},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
@cache_control(max_age=86400)
def app_icon(request, size: int):
    """The gym's icon: its favicon or logo on its brand colour, else its initial."""
    organisation = getattr(request, "organisation", None)
    if organisation is None or size not in ICON_SIZES:
        raise Http404
    image = Image.new("RGB", (size, size), organisation.brand_colour)
    source = organisation.favicon or organisation.logo
    if source:
        try:
            with source.open("rb") as handle, Image.open(handle) as picture:
                picture = picture.convert("RGBA")
                # The maskable safe zone is the middle 80%.
                picture.thumbnail((int(size * 0.7), int(size * 0.7)))
                offset = ((size - picture.width) // 2, (size - picture.height) // 2)
                image.paste(picture, offset, picture)
        except (OSError, ValueError):
            source = None
    if not source:
        palette = organisation.brand_palette
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=int(size * 0.55))
        draw.text(
            (size / 2, size / 2),
            (organisation.name[:1] or "S").upper(),
            fill=palette["--brand-ink"],
            font=font,
            anchor="mm",
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return HttpResponse(buffer.getvalue(), content_type="image/png")


@require_GET
def service_worker(request):
    """The worker script. Rendered (not a static file) so it knows the hashed names of
    the static files it precaches and is served at ``/`` scope."""
    precache = [
        static("css/spotter.css"),
        static("js/app.js"),
        static("js/qrcode.js"),
        static("access/my_code.js"),
        static("icons/sprite.svg"),
    ]
    offline_pages = [
        reverse("access:my_code"),
        reverse("bookings:mine"),
        reverse("classes:schedule"),
        reverse("portal:home"),
    ]
    body = render_to_string(
        "pwa/sw.js",
        {
            "version": SW_VERSION,
            "precache": json.dumps(precache),
            "offline_pages": json.dumps(offline_pages),
            "logout_url": json.dumps(reverse("account_logout")),
        },
    )
    response = HttpResponse(body, content_type="application/javascript")
    # Browsers check for a new worker on navigation; never let a cache hide it.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
@cache_control(max_age=86400)
def brand_css(request):
    """The gym's colours as CSS custom properties: a stylesheet of our origin, so pages
    keep a style policy of 'self' only. The link carries the colours as a version."""
    organisation = getattr(request, "organisation", None)
    if organisation is None:
        raise Http404
    rules = "".join(f"{name}:{value};" for name, value in organisation.brand_palette.items())
    return HttpResponse(f":root{{{rules}}}\n", content_type="text/css")
