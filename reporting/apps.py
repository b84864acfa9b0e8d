from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_statistics(using: str = "default", **kwargs) -> None:
    from reporting.queries import ensure_statistics

    ensure_statistics(using)


class ReportingConfig(AppConfig):
    name = "reporting"

    def ready(self) -> None:
        from badgeplatform import nav
        from badgeplatform.permissions import Perm

        nav.register("reporting", "Reports", "reporting:index", perm=Perm.VIEW_REPORTS, order=10)
        # PostgreSQL planner statistics for the report's day/month buckets, kept in step
        # with TIME_ZONE after every migrate (see reporting.queries.ensure_statistics).
        post_migrate.connect(_ensure_statistics, sender=self, dispatch_uid="reporting-statistics")
