"""The web application: FastAPI serving the REST API under /api/v1 and server-rendered pages."""
