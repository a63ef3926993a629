"""WSGI entry point (gunicorn kehu.config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.config.settings")
application = get_wsgi_application()
