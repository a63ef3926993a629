from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "kehu.transfer"
    label = "transfer"
    verbose_name = "导入导出"

    def ready(self) -> None:
        # An erasure (privacy) reaches the import ledger, rejected rows and stored sheets.
        from kehu.privacy.holdings import register_eraser
        from kehu.transfer.erasure import erase_from_transfers

        register_eraser("transfers", erase_from_transfers)
