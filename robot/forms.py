from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.forms import refuse_cpr_in_search
from orders.models import OrderLine
from portal.cpr import CPR_PATTERN
from portal.listing import Sort, ordering_for, sort_choices

from .models import Assessment, Document, Upload


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field, as Django's documentation shows."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)]


def too_large(upload) -> str:
    """Why an uploaded file is refused before anything is stored, or "" if it is not."""
    if upload.size <= settings.MAX_DOCUMENT_BYTES:
        return ""
    return _("%(name)s is larger than %(mb)d MB and was not received.") % {
        "name": upload.name,
        "mb": settings.MAX_DOCUMENT_BYTES // (1024 * 1024),
    }


class OriginForm(forms.Form):
    """Where the files of one upload came from, as the uploader states it. Nothing is
    preselected: the statement is what lets a file clear a line (docs/threat-model.md)."""

    origin = forms.ChoiceField(
        label=_("Where did you get these files?"),
        choices=Upload.Origin.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Only certificates you fetched yourself from the municipality's Digital Post mailbox "
            "can clear an order without a further check: the new hire gets a copy of their own "
            "certificate and could send a forged one."
        ),
        error_messages={"required": _("Choose where the files came from.")},
    )


class UploadForm(OriginForm):
    files = MultipleFileField(label=_("Certificates (PDF) and forwarded messages (.eml)"))

    def clean_files(self):
        files = self.cleaned_data["files"]
        refused = [problem for problem in map(too_large, files) if problem]
        if refused:
            again = _(
                "Nothing was received. Choose the files again without the ones that are too large."
            )
            raise forms.ValidationError([*refused, again])
        return files


class AssessmentForm(forms.Form):
    label_suffix = ""
    # Limits keep the filed decision note to a page or two.
    relevance = forms.CharField(
        label=_("Relevance to the position"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Is what is registered relevant to the tasks of the position?"),
    )
    discussed = forms.TypedChoiceField(
        label=_("Discussed with the applicant?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Assessment.Decision.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        # Several forms share a page: each has its own ids, so every label finds its field.
        kwargs.setdefault("auto_id", "assess_%s")
        super().__init__(*args, **kwargs)


class ResolveForm(forms.Form):
    line = forms.ModelChoiceField(
        label=_("Order line"),
        queryset=OrderLine.objects.none(),
        empty_label=_("Choose the certificate it answers"),
    )
    # Nothing is preselected: clearing a person must be a choice, never a default.
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            ("", _("Choose")),
            (Document.Outcome.CLEAN, _("Clean")),
            (Document.Outcome.NOT_CLEAN, _("Not clean: to assessment")),
            (Document.Outcome.REFUSED, _("Refused by the police")),
        ],
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("Why you decide this by hand; shown in the timeline."),
    )

    def __init__(self, *args, candidates=None, not_clean_only=False, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "resolve_%s")
        super().__init__(*args, **kwargs)
        if not_clean_only:
            # The robot found signs of a registration: only an assessment may follow.
            self.fields["outcome"].choices = [
                ("", _("Choose")),
                (Document.Outcome.NOT_CLEAN, _("Not clean: to assessment")),
            ]
        self.fields["line"].queryset = (
            candidates if candidates is not None else OrderLine.objects.none()
        )
        self.fields["line"].label_from_instance = lambda line: (
            f"{line.order.full_name} ({line.person.cpr_masked}) – {line.kind.name}, "
            f"{line.order.unit.name}, {line.get_status_display().lower()}"
        )


class SecondAnswerForm(forms.Form):
    keep = forms.ChoiceField(
        label=_("Which answer stands?"),
        choices=[
            ("earlier", _("The earlier answer: set this document aside")),
            ("this", _("This document: it replaces the earlier answer")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose which answer stands.")},
    )
    reason = forms.CharField(
        label=_("Why?"),
        max_length=500,
        help_text=_("E.g. what you found in the municipality's Digital Post mailbox."),
        error_messages={"required": _("Say why.")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "second_%s")
        super().__init__(*args, **kwargs)


class DiscardForm(forms.Form):
    reason = forms.CharField(label=_("Why is it not a certificate?"), max_length=500)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "discard_%s")
        super().__init__(*args, **kwargs)


class OverruleForm(forms.Form):
    """A person disagrees with the robot's proposal. Nothing is preselected."""

    outcome = forms.ChoiceField(
        label=_("What the document really says"),
        choices=[
            ("", _("Choose")),
            (Document.Outcome.CLEAN, _("Clean")),
            (Document.Outcome.NOT_CLEAN, _("Not clean: to assessment")),
            (Document.Outcome.REFUSED, _("Refused by the police")),
        ],
    )
    reason = forms.CharField(
        label=_("Why the robot was wrong"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "overrule_%s")
        super().__init__(*args, **kwargs)


DOCUMENT_SORTS = [
    Sort("oldest", _("Oldest first"), ("received_at", "pk")),
    Sort("newest", _("Newest first"), ("-received_at", "-pk")),
    Sort("name", _("Name (A–Z)"), ("line__order__full_name", "received_at", "pk")),
]
# Our own references may carry many digits; anything else with six digits may be a CPR number.
REFERENCE_PREFIXES = ("ATT-", "AP-")


class DocumentFilterForm(forms.Form):
    """Search and sort in payroll's queue. Searching by CPR number is refused, as in the
    order list: the query string ends up in the address bar and the server's logs."""

    state = forms.ChoiceField(
        required=False,
        choices=[("", "")] + [(s.value, s.label) for s in Document.QUEUE_STATES],
        widget=forms.HiddenInput,
    )
    q = forms.CharField(
        label=_("Search by name or reference"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=sort_choices(DOCUMENT_SORTS)
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_q(self) -> str:
        q = self.cleaned_data["q"].strip()
        if q.upper().startswith(REFERENCE_PREFIXES) and not CPR_PATTERN.search(q):
            return q
        return refuse_cpr_in_search(q)

    def clean_query(self) -> str:
        """The search as a query string, leaving out anything that was refused."""
        data = getattr(self, "cleaned_data", {})
        return urlencode({k: v for k in ("state", "q", "sort") if (v := data.get(k))})

    def filter(self, documents):
        """The documents that match, in the chosen order (none when the search was refused)."""
        if not self.is_valid():
            return documents.none()
        if state := self.cleaned_data["state"]:
            documents = documents.filter(state=state)
        if q := self.cleaned_data["q"]:
            documents = documents.filter(
                Q(line__order__full_name__icontains=q)
                | Q(original_name__icontains=q)
                | Q(line__batch__reference__iexact=q)
                | Q(filing__reference__iexact=q)
            )
        return documents.order_by(*ordering_for(DOCUMENT_SORTS, self.cleaned_data["sort"]))
