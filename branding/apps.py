from django.apps import AppConfig


class BrandingConfig(AppConfig):
    name = "branding"
    verbose_name = "Branding, emails and plans"

    def ready(self) -> None:
        from badgeplatform import mail, nav
        from badgeplatform.permissions import Perm
        from branding.emails import frame_context, prepared_space_email, render_space_email

        # Emails sent for a space wear its logo and colours; its authored emails are ours.
        mail.register_frame(frame_context)
        mail.register_space_email(render_space_email)
        mail.register_space_email_preparer(prepared_space_email)

        nav.register(
            "settings", "Branding", "branding:branding", perm=Perm.MANAGE_BRANDING, order=20
        )
        nav.register("settings", "Emails", "branding:emails", perm=Perm.MANAGE_BRANDING, order=30)
        nav.register(
            "settings", "Landing page", "branding:landing", perm=Perm.MANAGE_BRANDING, order=40
        )
        nav.register("settings", "Plans", "branding:plan", perm=Perm.MANAGE_SETTINGS, order=90)
