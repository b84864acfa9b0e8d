from django.apps import AppConfig


class BadgePlatformConfig(AppConfig):
    name = "badgeplatform"
    verbose_name = "Platform core"
