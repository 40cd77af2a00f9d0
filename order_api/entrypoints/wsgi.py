"""The WSGI application for any WSGI server: `gunicorn 'order_api.entrypoints.wsgi:app'`."""
from order_api.entrypoints.app import create_app

app = create_app()
