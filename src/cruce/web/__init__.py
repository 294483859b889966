"""The web application: FastAPI serving the REST API under /api/v1 and server-rendered pages."""

from cruce.web.app import create_app

__all__ = ["create_app"]
