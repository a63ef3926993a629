"""Users, departments, roles and API tokens: who may see and change what."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DataScope(models.TextChoices):
    """The five data scopes Chinese CRMs offer, narrowest first."""

    OWN = "own", _("本人")
    OWN_AND_SUBORDINATES = "own_sub", _("本人及下属")
    DEPARTMENT = "dept", _("本部门")
    DEPARTMENT_TREE = "dept_tree", _("本部门及下属")
    ALL = "all", _("全公司")


class Department(models.Model):
    """A node in the company's department tree. `path` ("/1/4/9/") makes subtree queries one LIKE."""

    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="department_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        """Keep `path` true to the tree: it is derived from the parent's path and the id."""
        super().save(*args, **kwargs)
        path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        if path != self.path:
            old = self.path
            Department.objects.filter(pk=self.pk).update(path=path)
            self.path = path
            if old:  # moved: every department below follows
                for child in Department.objects.filter(path__startswith=old).exclude(pk=self.pk):
                    Department.objects.filter(pk=child.pk).update(
                        path=path + child.path[len(old):]
                    )


class Role(models.Model):
    """A named bundle of permissions. The built-in codes are admin, manager, sales, analyst."""

    code = models.SlugField(_("代码"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    data_scope = models.CharField(
        _("数据范围"), max_length=16, choices=DataScope.choices, default=DataScope.OWN
    )
    can_write = models.BooleanField(_("可编辑"), default=True)
    masks_sensitive = models.BooleanField(_("隐藏敏感字段"), default=False)
    is_admin = models.BooleanField(_("管理员"), default=False)
    manages_catalogue = models.BooleanField(_("维护产品目录和销售流程"), default=False)
    may_export = models.BooleanField(_("可导出"), default=False)
    # Each of these gates one act on top of the data scope (and, for the writing acts,
    # can_write): a role may edit its customers yet not delete, merge or import them.
    may_delete = models.BooleanField(_("可删除客户"), default=True)
    may_merge = models.BooleanField(_("可合并客户"), default=True)
    may_import = models.BooleanField(_("可导入"), default=True)
    may_use_pool = models.BooleanField(_("可进入公海"), default=True)
    # A masking role sees 138****5678; with this it may ask for the full value, one at a
    # time and with a reason, each time recorded in the audit trail.
    may_reveal = models.BooleanField(_("可查看完整号码"), default=False)
    # Admins need a second factor whatever this says (accounts/twofactor.py).
    requires_two_factor = models.BooleanField(
        _("要求两步验证"), default=False,
        help_text=_("这个角色的人登录时必须输入身份验证器上的验证码；没有绑定的，登录后先绑定。"))

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. `manager` forms the reporting line used by 本人及下属."""

    display_name = models.CharField(_("姓名"), max_length=100, blank=True)
    role = models.ForeignKey(Role, null=True, blank=True, on_delete=models.PROTECT)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    is_system = models.BooleanField(default=False, help_text="Actor for jobs and imports.")

    objects = UserManager()

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def label(self) -> str:
        return str(self)


class TokenScope(models.TextChoices):
    READ = "read", _("只读")
    WRITE = "write", _("读写")


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a SHA-256 of the secret is stored.

    It acts as its user (never past the user's own rights); a `read` token may only read
    (GET, HEAD, OPTIONS); past `expires_at` it is refused like a revoked one.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=5, choices=TokenScope.choices, default=TokenScope.WRITE)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)  # none: until revoked
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_from = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class SignIn(models.Model):
    """One signed-in browser session of a person (设备), so they can see theirs and end the
    others. Written when someone signs in, removed when they sign out or end it; the session
    itself stays in Django's session store, keyed the same."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_ins")
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.session_key[:6]}…"
