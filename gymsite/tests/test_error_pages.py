"""Branded error pages: 404 and 403 in the site's layout, 500 with no database at all."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.views.defaults import permission_denied, server_error


@pytest.mark.django_db
def test_404_is_the_gyms_page(client):
    client.defaults["HTTP_HOST"] = "gym-a.test"
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "find that page" in response.text
    assert 'class="site-header"' in response.text


@pytest.mark.django_db
def test_403_explains_and_offers_a_way_out(rf):
    request = rf.get("/admin/", HTTP_HOST="gym-a.test")
    request.user = AnonymousUser()
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    html = response.content.decode()
    assert "open this page" in html and 'class="site-header"' in html
    assert "/accounts/login/" in html


def test_500_renders_without_the_database(rf):
    # no django_db mark: any query here raises, so rendering proves it needs none
    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
