"""Pages are built in the gym's time zone; the API and the back office choose their own."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from accounts.middleware import GymTimezoneMiddleware
from accounts.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "zone"),
    [("/classes/", "Asia/Tokyo"), ("/api/v1/classes", "UTC"), ("/admin/", "UTC")],
)
def test_pages_run_in_the_gyms_zone(gym, path, zone):
    Organisation.objects.filter(pk=gym.pk).update(default_timezone="Asia/Tokyo")
    seen = []

    def view(request):
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    request = RequestFactory().get(path)
    request.organisation = Organisation.objects.get(pk=gym.pk)
    GymTimezoneMiddleware(view)(request)
    assert seen == [zone]
    assert timezone.get_current_timezone_name() == "UTC"  # and only while it runs
