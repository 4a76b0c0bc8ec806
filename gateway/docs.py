"""The interactive API docs, served from the ``swagger-ui-bundle`` package: no CDN, works offline."""

from __future__ import annotations

from flask import Flask, send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/api/v1/docs/assets/"


def init_docs(app: Flask) -> None:
    """Serve Swagger UI's files under ``ASSETS_URL`` (flask-smorest's page at /api/v1/docs loads them), and its
    icon at ``/favicon.ico``."""

    def swagger_ui_asset(filename: str):
        return send_from_directory(str(swagger_ui_path), filename, max_age=86400)

    def favicon():
        # browsers ask for /favicon.ico on every page; without it the docs page logs a 404 in the console
        return send_from_directory(str(swagger_ui_path), "favicon-32x32.png", mimetype="image/png", max_age=86400)

    app.add_url_rule(f"{ASSETS_URL}<path:filename>", endpoint="swagger_ui_asset", view_func=swagger_ui_asset)
    app.add_url_rule("/favicon.ico", endpoint="favicon", view_func=favicon)
