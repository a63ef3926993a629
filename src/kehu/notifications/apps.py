from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kehu.notifications"
    label = "notifications"

    def ready(self) -> None:
        from kehu.jobs.signals import job_finished
        from kehu.notifications import receivers

        job_finished.connect(receivers.job_finished, dispatch_uid="notifications.job_finished")
        from kehu.accounts.twofactor import two_factor_bound

        two_factor_bound.connect(receivers.two_factor_bound,
                                 dispatch_uid="notifications.two_factor_bound")
