from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db.models.signals import post_migrate


def _after_migrate(using: str = "default", **kwargs) -> None:
    from reporting import rollups

    # The rollup triggers in place, and the rows counted in the configured TIME_ZONE.
    rollups.ensure(using)


def _time_zone_changed(setting: str, **kwargs) -> None:
    """Tests change TIME_ZONE: count the days again in the new zone (as ``migrate`` does when
    a deployment changes it). Without database access (a unit test) there is nothing to do."""
    if setting != "TIME_ZONE":
        return
    from django.db import connection

    from reporting import rollups

    try:
        connection.ensure_connection()
    except RuntimeError:  # pytest-django: this test has no database
        return
    rollups.ensure()


class ReportingConfig(AppConfig):
    name = "reporting"

    def ready(self) -> None:
        from badgeplatform import nav
        from badgeplatform.permissions import Perm

        nav.register("reporting", "Reports", "reporting:index", perm=Perm.VIEW_REPORTS, order=10)
        # The rollups' triggers and zone, kept in step with TIME_ZONE after every migrate.
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="reporting-statistics")
        setting_changed.connect(_time_zone_changed, dispatch_uid="reporting-time-zone")
