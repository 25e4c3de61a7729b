"""The API page works offline: every file it loads comes from this server."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from coach.config import Settings
from server.app import create_app


def test_the_api_page_loads_only_local_files(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path), preload=())) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and "SwaggerUIBundle" in page.text
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", page.text), "the page loads something from elsewhere"
        assert '"validatorUrl": null' in page.text  # no badge fetched from swagger.io
        assets = re.findall(r"(?:src|href)=\"(/[^\"]+)\"", page.text)
        assert {"/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css"} <= set(assets)
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
        assert client.get("/openapi.json").json()["paths"]["/v1/playbooks"]
        assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN: not offered
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]  # its own, inline start allowed
