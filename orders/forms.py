import datetime
import unicodedata
import uuid
from urllib.parse import urlencode

from django import forms
from django.core.validators import MaxLengthValidator
from django.forms.utils import ErrorDict
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.cpr import InvalidCpr, normalise_cpr
from portal.listing import Sort, ordering_for, sort_choices
from portal.models import User
from portal.selectors import units_of

from .models import LegalBasis, OrderLine
from .selectors import certificate_options, child_contact_basis, profiles_for


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _one_year_after(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _is_invisible_or_control(ch: str) -> bool:
    # Category C covers control (Cc) and format (Cf) characters: bidirectional overrides
    # and isolates, zero-width spaces and joiners, the byte order mark. In a name they can
    # make the text payroll pastes into politi.dk, or a CSV cell, read differently from
    # what is stored. Private use, surrogates and unassigned code points have no place in
    # a name either.
    return unicodedata.category(ch).startswith("C")


YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class OrderForm(forms.Form):
    """The manager's order for one new hire. The certificate part depends on the unit,
    the position and the children question, and is re-rendered in place as they change."""

    submission_token = forms.UUIDField(widget=forms.HiddenInput)
    unit = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=None,
        empty_label=_("Choose unit"),
    )
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    cpr = forms.CharField(
        label=_("CPR number"),
        max_length=11,
        help_text=_("10 digits, e.g. 010190-1234. Shown masked after the order is placed."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    start_date = forms.DateField(
        label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    digital_post_exempt = forms.BooleanField(
        label=_("The new hire is exempt from Digital Post"),
        required=False,
        help_text=_("They then consent on a paper form, which you can print from the order."),
    )
    profile = forms.ModelChoiceField(
        label=_("Position"),
        queryset=None,
        empty_label=_("Choose position"),
    )
    child_contact = forms.ChoiceField(
        label=_("Will the new hire have direct contact with children under 15?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=False,
    )
    certificates = forms.ModelMultipleChoiceField(
        label=_("Certificates"),
        queryset=LegalBasis.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.user = user
        if not self.is_bound:
            self.initial.setdefault("submission_token", uuid.uuid4())
        elif not _is_uuid(self.data.get(self.add_prefix("submission_token"))):
            # A page kept open across a deploy, or a tampered field: issue a fresh token
            # rather than a dead end the user cannot correct.
            self.data = self.data.copy()
            self.data[self.add_prefix("submission_token")] = str(uuid.uuid4())
        units = list(units_of(user))
        self.fields["unit"].queryset = units_of(user)
        self.single_unit = units[0] if len(units) == 1 else None
        if self.single_unit:
            self.fields["unit"].initial = self.single_unit
            self.fields["unit"].widget = forms.HiddenInput()
        self.selected_unit = next(
            (u for u in units if str(u.pk) == str(self._raw("unit") or "")), None
        )
        profiles = profiles_for(self.selected_unit).select_related(
            "area__child_contact_rule__legal_basis"
        )
        self.fields["profile"].queryset = profiles
        self.selected_profile = self._selected("profile", profiles)
        self.child_basis = child_contact_basis(self.selected_profile)
        self.options = certificate_options(
            self.selected_profile, child_contact=self._raw("child_contact") == "yes"
        )
        self.fields["certificates"].queryset = LegalBasis.objects.filter(
            pk__in=[o.basis.pk for o in self.options if not o.required]
        )
        if self.child_basis is not None:
            self.fields["child_contact"].required = True
        # Changing these re-renders the certificate choices in place. Only the catalogue
        # fields travel in that GET: the CPR number must never end up in a URL.
        refresh = {
            "hx-get": reverse("orders:create"),
            "hx-target": "#catalogue",
            "hx-swap": "outerHTML",
            "hx-include": "#id_unit, #id_profile, [name=child_contact], [name=certificates]",
            # A quick second change (the children question answered while the position's
            # choices are still on their way) replaces the first request: the last answer wins.
            "hx-sync": "closest form:replace",
        }
        for name in ("unit", "profile", "child_contact"):
            self.fields[name].widget.attrs.update(refresh)

    def _raw(self, name: str):
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        value = self.initial.get(name, self.fields[name].initial)
        return getattr(value, "pk", value)

    def _selected(self, name: str, queryset):
        value = self._raw(name)
        if not value:
            return None
        try:
            return queryset.filter(pk=value).first()
        except (ValueError, TypeError):
            return None

    def certificate_choices(self):
        """(option, checked) pairs for the template: required ones checked and fixed."""
        chosen = {str(v) for v in (self.data.getlist("certificates") if self.is_bound else [])}
        return [
            (option, option.required or str(option.basis.pk) in chosen) for option in self.options
        ]

    def clean_cpr(self) -> str:
        try:
            return normalise_cpr(self.cleaned_data["cpr"])
        except InvalidCpr as error:
            raise forms.ValidationError(str(error), code="invalid_cpr") from None

    def clean_full_name(self) -> str:
        # NFC so the same name typed on a Mac or in Windows is stored and searched alike.
        # Whitespace of any kind (tabs, line breaks from a paste) becomes one space: a line
        # break would start a new person in the police's "several persons" field.
        name = " ".join(unicodedata.normalize("NFC", self.cleaned_data["full_name"]).split())
        if any(_is_invisible_or_control(ch) for ch in name):
            raise forms.ValidationError(
                _(
                    "The name contains invisible or control characters. "
                    "Type the name again instead of pasting it."
                ),
                code="invisible_characters",
            )
        if any(ch.isdigit() for ch in name):
            raise forms.ValidationError(_("The name must not contain digits."))
        if name[:1] in ("=", "+", "-", "@"):
            # A spreadsheet would run it as a formula; the CSV export escapes it too.
            raise forms.ValidationError(
                _("The name cannot start with =, +, - or @."), code="formula_start"
            )
        # NFC can lengthen a few characters, so check the stored length again.
        MaxLengthValidator(self.fields["full_name"].max_length)(name)
        return name

    def clean_start_date(self):
        start_date = self.cleaned_data["start_date"]
        today = timezone.localdate()
        if start_date < today:
            raise forms.ValidationError(_("The start date cannot be in the past."))
        if start_date > _one_year_after(today):
            raise forms.ValidationError(
                _("The start date is more than a year ahead. Check the date."),
                code="too_far_ahead",
            )
        return start_date

    def clean(self):
        cleaned = super().clean()
        if self.selected_profile is None:
            return cleaned
        bases = [o.basis for o in self.options if o.required]
        bases += list(cleaned.get("certificates") or [])
        if not bases and "certificates" not in self.errors:
            self.add_error(
                "certificates",
                _("Choose at least one certificate. If the position needs none, do not order."),
            )
        cleaned["legal_bases"] = bases
        return cleaned

    @property
    def child_contact_value(self) -> bool | None:
        """The answer, or None where the question was not asked."""
        if self.child_basis is None:
            return None
        return {"yes": True, "no": False}.get(self.cleaned_data.get("child_contact"))

    def without_errors(self) -> "OrderForm":
        """For re-rendering choices while the user is still filling in the form."""
        self._errors = ErrorDict()
        return self

    def renew_submission_token(self) -> None:
        self.data = self.data.copy()
        self.data[self.add_prefix("submission_token")] = str(uuid.uuid4())


ORDER_SORTS = [
    Sort("newest", _("Newest orders first"), ("-created_at", "-id")),
    Sort("oldest", _("Oldest orders first"), ("created_at", "id")),
    Sort("name", _("Name (A–Z)"), ("full_name", "id")),
    Sort("start", _("Start date, earliest first"), ("start_date", "id")),
    Sort("start_desc", _("Start date, latest first"), ("-start_date", "-id")),
]


def refuse_cpr_in_search(q: str) -> str:
    """A CPR number typed in a search field would end up in the address bar and server
    logs: anything with six digits or more is refused."""
    q = q.strip()
    if sum(ch.isdigit() for ch in q) >= 6:
        raise forms.ValidationError(
            _("Search by name only. Never put a CPR number in a search field.")
        )
    return q


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All statuses"))] + list(OrderLine.Status.choices),
        required=False,
    )
    q = forms.CharField(
        label=_("Search by name"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    unit = forms.TypedChoiceField(label=_("Unit"), required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=sort_choices(ORDER_SORTS))

    def __init__(self, data=None, *, units=(), **kwargs):
        kwargs.setdefault("label_suffix", "")
        allowed = {str(unit.pk) for unit in units}
        if data is not None and data.get("unit") and data.get("unit") not in allowed:
            # Another unit's id is dropped, never shown an error or a hint that it exists.
            data = data.copy()
            data.pop("unit")
        super().__init__(data, **kwargs)
        self.fields["unit"].choices = [("", _("All your units"))] + [
            (unit.pk, unit.name) for unit in units
        ]
        self.offers_units = len(units) > 1

    def clean_query(self, **changes) -> str:
        """The filter as a query string, leaving out anything that was refused."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        values = {k: v for k in ("q", "status", "unit", "sort") if (v := self.cleaned_data.get(k))}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})

    def clean_q(self) -> str:
        return refuse_cpr_in_search(self.cleaned_data["q"])

    @property
    def ordering(self) -> tuple[str, ...]:
        return ordering_for(ORDER_SORTS, getattr(self, "cleaned_data", {}).get("sort"))


class OrderCorrectionForm(forms.Form):
    """Correcting the new hire's details on an order; the CPR field only while it may change."""

    full_name = OrderForm.base_fields["full_name"]
    start_date = forms.DateField(
        label=_("Start date"),
        # ISO, as the browser's date field needs it to show the current date.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    cpr = forms.CharField(
        label=_("Correct CPR number"),
        max_length=11,
        required=False,
        help_text=_("Leave empty to keep the CPR number. 10 digits, e.g. 010190-1234."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def __init__(self, *args, order, allow_cpr: bool, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("initial", {"full_name": order.full_name, "start_date": order.start_date})
        super().__init__(*args, **kwargs)
        self.order = order
        if not allow_cpr:
            del self.fields["cpr"]

    # The same rules as when ordering.
    clean_full_name = OrderForm.clean_full_name

    def clean_cpr(self) -> str:
        if not self.cleaned_data["cpr"].strip():
            return ""
        return OrderForm.clean_cpr(self)

    def clean_start_date(self):
        if self.cleaned_data["start_date"] == self.order.start_date:
            return self.order.start_date  # unchanged, even if it has passed
        return OrderForm.clean_start_date(self)
