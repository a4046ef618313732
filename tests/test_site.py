"""What every page of the site shares."""

import pytest

pytestmark = pytest.mark.django_db


def test_every_page_has_an_icon(admin_client):
    # /favicon.ico was a 404 on every page.
    response = admin_client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("/qa/favicon.svg")
    page = admin_client.get("/admin/").content.decode()
    assert 'rel="icon" href="/static/qa/favicon.svg"' in page
