"""Custom field definitions (admins only).

Thin like every view: parse input, call a selector or a service, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.accounts.policy import require_admin
from kehu.core.errors import ValidationError
from kehu.core.views import (
    attach_errors,
    redirect,
    web_view,
)
from kehu.customers import services
from kehu.customers.forms import (
    CustomFieldForm,
    custom_field_initial,
)
from kehu.customers.models import CustomField
from kehu.customers.views.common import WEB

# --- custom field definitions (admins) ------------------------------------------------


ADMINS_ONLY = gettext_lazy("只有管理员可以定义自定义字段")


@web_view
def custom_field_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    return render(request, "customers/fields.html", {"fields": CustomField.objects.all()})


@web_view
def custom_field_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    field = get_object_or_404(CustomField, pk=pk) if pk else None
    initial = custom_field_initial(field) if field else {"is_active": True, "position": 0}
    form = CustomFieldForm(request.POST or None, editing=field is not None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.custom_field_save(actor=request.user, origin=WEB, data=form.service_data(),
                                               field=field)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("已保存字段 %(label)s") % {"label": saved.label})
            return redirect(reverse("customers:fields"))
    return render(request, "customers/field_form.html", {"form": form, "field": field})


@require_POST
@web_view
def custom_field_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (or reactivate) a field: its values stay, it leaves forms and filters."""
    require_admin(request.user, ADMINS_ONLY)
    field = get_object_or_404(CustomField, pk=pk)
    services.custom_field_save(actor=request.user, origin=WEB, data={"is_active": not field.is_active},
                               field=field)
    return redirect(reverse("customers:fields"))
