from zoneinfo import available_timezones

from django.conf.locale import LANG_INFO
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.branding import palette, validate_colour
from accounts.tenancy import TenantModel
from gymsite.money import amount_field, currency_field, tax_rate_field

TIMEZONE_CHOICES = sorted((name, name) for name in available_timezones())
# Languages a trainer teaches in: Django's own list of language codes and names.
LANGUAGE_CHOICES = sorted(
    ((code, info["name"]) for code, info in LANG_INFO.items() if "name" in info),
    key=lambda item: item[1],
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """One login per person, whatever roles they hold in whichever gyms."""

    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Platform operators only; gym staff reach the admin through their roles.
    is_staff = models.BooleanField(_("platform staff"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Raised when someone's role ends (``accounts.services.user_revoke_logins``): every
    # session (its hash includes it) and every API token (its "ver" claim) issued
    # before stops working at once, however long it had left.
    auth_version = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.email

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email

    def get_session_auth_hash(self):
        # Django compares this with the hash stored at login on every request. Version 0
        # keeps Django's own hash, so sessions from before the version existed stay valid.
        base = super().get_session_auth_hash()
        return f"{base}:{self.auth_version}" if self.auth_version else base


class Organisation(models.Model):
    """The tenant: one gym business, with one or more branches."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    domain = models.CharField(
        _("domain"),
        max_length=253,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Host name that serves this gym, e.g. gym.example.com."),
    )
    currency = currency_field(verbose_name=_("currency"))
    default_timezone = models.CharField(
        _("time zone"), max_length=64, choices=TIMEZONE_CHOICES, default="Europe/London"
    )
    email = models.EmailField(_("contact email"), blank=True)
    # Branding: every page, email and the installable app show the gym as its own.
    logo = models.ImageField(
        _("logo"),
        upload_to="branding/logos/",
        blank=True,
        help_text=_("Square or wide, at least 512 pixels; shown in the header and app icon."),
    )
    favicon = models.ImageField(
        _("favicon"),
        upload_to="branding/favicons/",
        blank=True,
        help_text=_("A square PNG, at least 192 pixels; the browser tab and app icon."),
    )
    brand_colour = models.CharField(
        _("brand colour"),
        max_length=7,
        default="#0b5cad",
        validators=[validate_colour],
        help_text=_("Header and buttons, e.g. #0b5cad. Text on it is chosen to stay readable."),
    )
    accent_colour = models.CharField(
        _("accent colour"),
        max_length=7,
        default="#0f766e",
        validators=[validate_colour],
        help_text=_("Highlights and the welcome banner, e.g. #0f766e."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name

    @property
    def brand_palette(self) -> dict[str, str]:
        return palette(primary=self.brand_colour, accent=self.accent_colour)


class Branch(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"))
    address_line = models.CharField(_("address"), max_length=255)
    city = models.CharField(_("city"), max_length=120)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, default="GB")
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, choices=TIMEZONE_CHOICES, default="Europe/London"
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    tax_rate = tax_rate_field(
        _("tax rate"), default=0, help_text=_("Sales tax as a fraction, e.g. 0.2000 for 20%.")
    )
    is_active = models.BooleanField(_("open"), default=True)

    tenant_branch_path = "id"

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="branch_slug_unique"),
        ]

    def __str__(self):
        return self.name


class OpeningHours(TenantModel):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens"))
    closes_at = models.TimeField(_("closes"))

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "weekday", "opens_at"], name="opening_hours_unique"
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="opening_hours_order"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    BRANCH_MANAGER = "branch_manager", _("Branch manager")
    FRONT_DESK = "front_desk", _("Front desk")
    TRAINER = "trainer", _("Trainer")


BRANCH_ROLES = {Role.BRANCH_MANAGER, Role.FRONT_DESK}
STAFF_ROLES = {Role.OWNER, Role.BRANCH_MANAGER, Role.FRONT_DESK}


class RoleAssignment(TenantModel):
    """A staff role held by a person in one organisation (and branch, where it has one).

    Being a member is having a ``Member`` record; a person may hold any mix of roles.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    branch = models.ForeignKey(
        Branch, on_delete=models.CASCADE, null=True, blank=True, related_name="role_assignments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_branch_path = "branch"

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user", "role", "branch"],
                name="role_assignment_unique",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["branch_manager", "front_desk"]) | Q(branch__isnull=False),
                name="branch_role_needs_branch",
            ),
            models.CheckConstraint(
                condition=~Q(role="owner") | Q(branch__isnull=True),
                name="owner_role_has_no_branch",
            ),
        ]

    def __str__(self):
        where = f" @ {self.branch}" if self.branch_id else ""
        return f"{self.user} — {self.get_role_display()}{where}"


def member_photo_path(instance, filename):
    return f"org-{instance.organisation_id}/members/{filename}"


def trainer_photo_path(instance, filename):
    return f"org-{instance.organisation_id}/trainers/{filename}"


class Member(TenantModel):
    """A member of one gym. Dependants in a household may have no login of their own.

    Members belong to the whole organisation (they may visit any branch their plan
    opens), so branch staff can look up every member; their branch-bound records
    (bookings, visits, sales) stay branch-scoped.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="member_profiles"
    )
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=150, blank=True)
    emergency_contact_phone = models.CharField(
        _("emergency contact phone"), max_length=40, blank=True
    )
    photo = models.ImageField(_("photo"), upload_to=member_photo_path, blank=True)
    goals = models.TextField(_("goals"), blank=True)
    notes = models.TextField(_("staff notes"), blank=True)
    home_branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="home_members", verbose_name=_("home branch")
    )
    payer = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dependants",
        verbose_name=_("household payer"),
        help_text=_("The member who pays for this member's memberships."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(user__isnull=False),
                name="one_member_profile_per_user_and_organisation",
            ),
            models.CheckConstraint(condition=~Q(payer=models.F("id")), name="member_not_own_payer"),
        ]
        indexes = [
            models.Index(fields=["organisation", "last_name", "first_name"]),
            # Search by any part of a name or email (admin ``icontains`` is
            # ``UPPER(col) LIKE UPPER('%…%')``): trigram indexes on the same expression.
            *(
                GinIndex(OpClass(Upper(column), name="gin_trgm_ops"), name=f"member_{column}_trgm")
                for column in ("first_name", "last_name", "email", "phone")
            ),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def billing_member(self) -> "Member":
        """Who pays: the household payer, or the member themselves."""
        return self.payer if self.payer_id else self

    # The household rule, once: a payer's household is themselves and the dependants
    # they pay for, active ones only (an archived member is no longer a member).
    @staticmethod
    def household_of(payer_id: int) -> Q:
        """The members of ``payer_id``'s household, as a filter (``in_household_of``)."""
        return (Q(pk=payer_id) | Q(payer_id=payer_id)) & Q(status=Member.Status.ACTIVE)

    def in_household_of(self, payer: "Member") -> bool:
        """Whether this member is in ``payer``'s household (``household_of``)."""
        return self.status == self.Status.ACTIVE and payer.pk in (self.pk, self.payer_id)


class TrainerProfile(TenantModel):
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="trainer_profiles")
    display_name = models.CharField(_("name"), max_length=150)
    bio = models.TextField(_("bio"), blank=True)
    certifications = models.TextField(
        _("other qualifications"),
        blank=True,
        help_text=_("Free text; certifications a class may require are listed below."),
    )
    specialities = ArrayField(
        models.CharField(max_length=60), blank=True, default=list, verbose_name=_("specialities")
    )
    languages = ArrayField(
        models.CharField(max_length=8, choices=LANGUAGE_CHOICES),
        blank=True,
        default=list,
        verbose_name=_("languages"),
    )
    hourly_rate = amount_field(_("hourly rate"), default=0)
    currency = currency_field(verbose_name=_("currency"))
    photo = models.ImageField(_("photo"), upload_to=trainer_photo_path, blank=True)
    branches = models.ManyToManyField(Branch, related_name="trainers", blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("trainer")
        verbose_name_plural = _("trainers")
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], name="one_trainer_profile_per_organisation"
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def language_names(self) -> list[str]:
        names = dict(LANGUAGE_CHOICES)
        return [names.get(code, code) for code in self.languages]


class Certification(TenantModel):
    """A qualification the gym recognises (e.g. "Indoor cycling instructor"); a class
    type may require one, and a trainer holds it with an expiry."""

    name = models.CharField(_("name"), max_length=150)
    issuing_body = models.CharField(_("issuing body"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="certification_unique")
        ]

    def __str__(self):
        return self.name


class TrainerCertification(TenantModel):
    trainer = models.ForeignKey(
        TrainerProfile, on_delete=models.CASCADE, related_name="held_certifications"
    )
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="holders"
    )
    issuing_body = models.CharField(
        _("issued by"), max_length=150, blank=True, help_text=_("Empty: the usual body.")
    )
    reference = models.CharField(_("certificate number"), max_length=80, blank=True)
    expires_on = models.DateField(_("expires"), null=True, blank=True)
    reminder_sent_for = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("trainer certification")
        verbose_name_plural = _("trainer certifications")
        ordering = ["expires_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["trainer", "certification"], name="trainer_certification_unique"
            )
        ]

    def __str__(self):
        return f"{self.certification} ({self.trainer})"

    def valid_on(self, day) -> bool:
        return self.expires_on is None or self.expires_on >= day


class AuditLog(TenantModel):
    """What a staff member did to whom: refunds, manual check-ins, edits."""

    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organisation", "target_type", "target_id"])]

    def __str__(self):
        return f"{self.action} {self.target_type}#{self.target_id}"
