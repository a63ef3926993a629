from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    name = "kehu.classification"
    label = "classification"

    def ready(self) -> None:
        # Figures and dimension values as fields of the one filter definition.
        from kehu.classification.conditions import register as register_conditions

        register_conditions()
        # A customer's rules re-run after any write that touched them (debounced).
        from kehu.classification.triggers import connect

        connect()
