import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "badgeplatform.settings")
application = get_wsgi_application()

# Refuse to start rather than answer 500 on every page (badgeplatform/startup.py).
from badgeplatform.startup import require_static_manifest  # noqa: E402 - needs the apps loaded

require_static_manifest()
