"""gunicorn entry point: `gunicorn 'api.wsgi:app'` (settings from AUDITCAGE_* variables)."""

from api import create_app

app = create_app()
