from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"
