"""Start-up checks: a web process that cannot serve its pages refuses to start.

With DEBUG off, static files are served from STATIC_ROOT through a manifest of hashed names
(CompressedManifestStaticFilesStorage). Without `collectstatic` that manifest is missing and
every page that links a stylesheet raised a 500. wsgi.py (gunicorn and runserver load it)
calls `require_static_manifest()`, so the process exits with the message below instead; the
deploy check says the same to `manage.py check --deploy` (only there: `migrate` and the
workers need no static files, and the image migrates before any web process starts).
"""

from __future__ import annotations

from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def missing_manifest() -> str | None:
    """The message when the static files' manifest is needed and missing, else None."""
    storage = staticfiles_storage
    if not isinstance(storage, ManifestFilesMixin):
        return None  # DEBUG: files are served from the source directories as they are
    if storage.manifest_storage.exists(storage.manifest_name):
        return None
    location = storage.manifest_storage.path(storage.manifest_name)
    return (
        f"The static files' manifest {location} is missing, so no page could be served (DEBUG "
        "is off). Run `python manage.py collectstatic --noinput` before starting the web "
        "process (the Docker image and `make run` do), or point STATIC_ROOT at where it ran."
    )


def require_static_manifest() -> None:
    message = missing_manifest()
    if message:
        raise ImproperlyConfigured(message)


@checks.register(checks.Tags.staticfiles, deploy=True)
def check_static_manifest(app_configs, **kwargs) -> list[checks.CheckMessage]:
    message = missing_manifest()
    return [checks.Error(message, id="badgeplatform.E001")] if message else []
