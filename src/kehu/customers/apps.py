from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from kehu.core.settings_menu import register_settings_section

        register_settings_section("fields", _("自定义字段"), "customers:fields", order=10,
                                  description=_("给客户资料加上你们公司需要的字段"))
        # Data quality: completeness, stale records, re-validation (customers/quality/).
        from kehu.customers.quality.setup import install as install_quality

        install_quality()
        # Regions (行政区划): `region` and `region.status` for lists, segments and rules.
        from kehu.customers.regions import conditions as region_conditions

        region_conditions.register()
        # The audit trail masks these values wherever they appear in an entry's details.
        from kehu.audit.masking import register_sensitive
        from kehu.customers.sensitive import CONTACT_SENSITIVE, CUSTOMER_SENSITIVE

        register_sensitive(CUSTOMER_SENSITIVE)
        register_sensitive(CONTACT_SENSITIVE)
