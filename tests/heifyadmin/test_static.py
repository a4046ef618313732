"""With DEBUG off the app serves its own static files (WhiteNoise): the admin's CSS, Chart.js, the API docs."""

import pytest


@pytest.mark.parametrize("path, content_type", [
    ("/static/admin/css/base.css", "text/css"),
    ("/static/qa/vendor/chart-4.6.1.umd.min.js", "text/javascript"),
    ("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js", "text/javascript"),
])
def test_static_files_are_served_with_debug_off(client, settings, path, content_type):
    assert settings.DEBUG is False
    response = client.get(path, secure=True)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert b"".join(response.streaming_content)


def test_the_chart_js_build_names_no_source_map_that_is_not_shipped():
    # The manifest storage of `collectstatic` refuses a reference to a missing file.
    from django.contrib.staticfiles import finders

    with open(finders.find("qa/vendor/chart-4.6.1.umd.min.js"), encoding="utf-8") as handle:
        assert "sourceMappingURL" not in handle.read()
