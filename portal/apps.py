from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Organisation and users")

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the system checks: deployment and settings)
            middleware,  # noqa: F401  (records the login time in the session)
        )
        from .audit import register_audited_models

        register_audited_models()
