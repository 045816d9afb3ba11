from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_cpr_keys(app_configs, **kwargs):
    """Production must not derive the CPR keys from SECRET_KEY (rotating one would break both)."""
    return [
        Warning(
            f"{name} is not set; CPR numbers are protected with a key derived from SECRET_KEY.",
            hint=f"Set {name} in the environment (see .env.example).",
            id=f"portal.W00{i}",
        )
        for i, name in enumerate(["CPR_ENCRYPTION_KEY", "CPR_HASH_KEY"], start=1)
        if not getattr(settings, name)
    ]


@register(Tags.security, deploy=True)
def check_demo_mode(app_configs, **kwargs):
    if settings.DEMO_MODE:
        return [
            Warning(
                "DEMO_MODE is on: demo users with a known password can be created.",
                hint="Unset DEMO_MODE in production.",
                id="portal.W003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_portal_base_url(app_configs, **kwargs):
    """Links in e-mails must point at the real portal, over HTTPS."""
    if not settings.PORTAL_BASE_URL.startswith("https://"):
        return [
            Warning(
                f"PORTAL_BASE_URL is {settings.PORTAL_BASE_URL!r}: links in e-mails will not "
                "reach the portal over HTTPS.",
                hint="Set PORTAL_BASE_URL to the portal's public https:// address.",
                id="portal.W004",
            )
        ]
    return []
