"""Per-gym branding (validated colours, applied on pages and in the manifest) and the
installable app's manifest, icons and service worker."""

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from accounts.branding import contrast, palette
from accounts.models import Organisation
from accounts.tests.factories import BranchFactory
from conftest import LOGIN_BACKEND

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("colour", ["#ffe600", "#000000", "#0b5cad", "#ff00ff", "#7f7f7f"])
def test_any_brand_colour_keeps_text_readable(colour):
    colours = palette(primary=colour, accent=colour)
    assert contrast(colours["--brand"], colours["--brand-ink"]) >= 4.5
    assert contrast(colours["--link-light"], "#ffffff") >= 4.5
    assert contrast(colours["--link-dark"], "#171b22") >= 4.5


@pytest.mark.parametrize("bad", ["red", "#12345", "#1234567", "#ggg000", "javascript:"])
def test_a_colour_that_is_not_hex_is_refused_beside_its_field(gym, bad):
    gym.brand_colour = bad
    with pytest.raises(ValidationError) as error:
        gym.full_clean()
    assert "brand_colour" in error.value.message_dict


def test_each_gym_gets_its_own_colours_name_and_manifest(client, gym, other_gym):
    # given two gyms with their own colours
    BranchFactory(organisation=gym)
    Organisation.objects.filter(pk=gym.pk).update(brand_colour="#aa0000")
    Organisation.objects.filter(pk=other_gym.pk).update(brand_colour="#00aa00")

    # when each gym's home and manifest are fetched on its own host
    page_a = client.get("/", HTTP_HOST="gym-a.test").content.decode()
    manifest_a = client.get("/manifest.webmanifest", HTTP_HOST="gym-a.test")
    manifest_b = client.get("/manifest.webmanifest", HTTP_HOST="gym-b.test").json()

    # then each carries its own brand
    assert "/brand.css?v=aa0000" in page_a and "Gym A" in page_a
    css = client.get("/brand.css", HTTP_HOST="gym-a.test")
    assert css["Content-Type"] == "text/css" and "--brand:#aa0000;" in css.content.decode()
    assert manifest_a["Content-Type"] == "application/manifest+json"
    data_a = manifest_a.json()
    assert data_a["name"] == "Gym A" and data_a["theme_color"] == "#aa0000"
    assert manifest_b["name"] == "Gym B" and manifest_b["theme_color"] == "#00aa00"
    assert {icon["sizes"] for icon in data_a["icons"]} == {"192x192", "512x512"}


def test_the_app_icon_is_a_png_of_the_asked_size_in_the_brand_colour(client, gym):
    import io

    response = client.get("/app-icon-192.png", HTTP_HOST="gym-a.test")
    image = Image.open(io.BytesIO(response.content))
    assert response["Content-Type"] == "image/png" and image.size == (192, 192)
    assert image.convert("RGB").getpixel((2, 2)) == (11, 92, 173)  # the default #0b5cad
    assert client.get("/app-icon-100.png", HTTP_HOST="gym-a.test").status_code == 404


def test_the_service_worker_is_served_at_the_root_with_its_hooks(client, gym):
    response = client.get("/sw.js", HTTP_HOST="gym-a.test")
    body = response.content.decode()
    assert response["Content-Type"] == "application/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    for hook in ('addEventListener("push"', 'addEventListener("notificationclick"'):
        assert hook in body
    assert '"/access/my-code/"' in body and "/static/js/qrcode.js" in body


def test_danish_is_switchable_and_translated(client, gym, member):
    # given a member who picks Danish in the language menu
    client.force_login(member.user, backend=LOGIN_BACKEND)
    response = client.post(
        "/i18n/setlang/", {"language": "da", "next": "/portal/"}, HTTP_HOST="gym-a.test"
    )
    assert response.status_code == 302

    # when they open their home
    response = client.get("/portal/", HTTP_HOST="gym-a.test")
    assert response.status_code == 200, response
    page = response.content.decode()

    # then it is in Danish
    assert 'lang="da"' in page
    assert "Adgangskode" in page and "Mine bookinger" in page and "Log ud" in page


def test_emails_carry_the_gyms_header_in_text_and_html(gym, mailoutbox, settings):
    from gymsite import outbox
    from gymsite.models import OutboxMessage

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Organisation.objects.filter(pk=gym.pk).update(brand_colour="#aa0000")

    # when an email of the gym is written and delivered, rendered now or at delivery
    for render_at_delivery in (False, True):
        message = outbox.email_message(
            to="member@gym-a.test",
            template="accounts/welcome",
            context={"first_name": "Ada", "organisation_name": "Gym A"},
            organisation_id=gym.pk,
            render_at_delivery=render_at_delivery,
        )
        message.save()
        outbox.deliver_email(OutboxMessage.objects.get(pk=message.pk))

    # then both read as the gym's: its name on top of the text, its colour in the HTML
    assert len(mailoutbox) == 2
    for sent in mailoutbox:
        assert sent.body.startswith("Gym A\n=====\n")
        html, mimetype = sent.alternatives[0]
        assert mimetype == "text/html"
        assert "background:#aa0000" in html and "Gym A" in html
