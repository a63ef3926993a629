"""Forms of 成员与权限. They only carry what was typed: every value is checked once, by the
services' cleaners (`accounts/team.py`, `accounts/org.py`), whose errors come back next to
these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import DataScope, Department, Role, User


def department_choices(departments: list[Department], blank: Any = None) -> list[tuple[Any, str]]:
    """Departments as a tree for a select: each indented under its parent."""
    choices = [("", blank)] if blank is not None else []
    return choices + [(d.pk, "\u3000" * d.depth + d.name) for d in departments]


class UserForm(forms.Form):
    username = forms.CharField(label=_("登录用户名"), required=False, help_text=_(
        "登录时输入，创建后不能修改"))
    display_name = forms.CharField(label=_("姓名"), required=False)
    email = forms.CharField(label=_("电子邮箱"), required=False)
    department = forms.ChoiceField(label=_("部门"), required=False)
    manager = forms.ChoiceField(label=_("上级"), required=False, help_text=_(
        "“本人及下属”的数据范围按上级关系计算"))
    role = forms.ChoiceField(label=_("角色"), required=False)
    password = forms.CharField(label=_("初始密码"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("留空则自动生成一个，只在创建后显示一次"))

    def __init__(self, *args: Any, departments: list[Department], people: list[User],
                 roles: list[Role], new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = department_choices(departments, _("（无部门）"))
        self.fields["manager"].choices = [("", _("（无上级）"))] + [
            (p.pk, p.label) for p in people]
        self.fields["role"].choices = [("", "")] + [(r.pk, r.name) for r in roles]
        self.fields["role"].kehu_required = True
        if new:
            self.fields["username"].kehu_required = True
        else:
            del self.fields["username"], self.fields["password"]


class PasswordResetForm(forms.Form):
    password = forms.CharField(label=_("新密码"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("留空则自动生成一个，只显示一次。重置后此人的所有登录立即退出。"))


class RoleForm(forms.Form):
    name = forms.CharField(label=_("名称"), required=False)
    code = forms.CharField(label=_("代码"), required=False, help_text=_(
        "小写字母、数字和连字符，命令行创建用户时用它指代角色；留空自动生成，创建后不能修改"))
    data_scope = forms.ChoiceField(label=_("数据范围"), required=False, choices=DataScope.choices,
                                   help_text=_("能看到哪些负责人的客户"))
    can_write = forms.BooleanField(label=_("可编辑（否则只读）"), required=False)
    masks_sensitive = forms.BooleanField(label=_("隐藏敏感字段（电话、邮箱、微信、证件号）"),
                                         required=False)
    may_reveal = forms.BooleanField(label=_("可查看完整号码（隐藏时，逐条说明理由后显示，记入审计日志）"),
                                    required=False)
    may_export = forms.BooleanField(label=_("可导出"), required=False)
    may_import = forms.BooleanField(label=_("可导入"), required=False)
    may_delete = forms.BooleanField(label=_("可删除客户"), required=False)
    may_merge = forms.BooleanField(label=_("可合并客户"), required=False)
    may_use_pool = forms.BooleanField(label=_("可进入公海（看到并领取公海客户）"), required=False)
    manages_catalogue = forms.BooleanField(label=_("维护产品目录和销售流程"), required=False)
    is_admin = forms.BooleanField(label=_("管理员（全公司、全部权限、可进入设置）"), required=False)
    requires_two_factor = forms.BooleanField(label=_("要求两步验证"), required=False)

    def __init__(self, *args: Any, new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].kehu_required = True
        self.fields["data_scope"].kehu_required = True
        if not new:
            del self.fields["code"]


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("名称"), required=False)
    parent = forms.ChoiceField(label=_("上级部门"), required=False, help_text=_(
        "移到另一个部门之下时，它的下级部门一起移动"))

    def __init__(self, *args: Any, departments: list[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].kehu_required = True
        self.fields["parent"].choices = department_choices(departments, _("（顶级部门）"))
