from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from orders.models import OrderLine

from .models import Assessment, Document


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


class UploadForm(forms.Form):
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

    def __init__(self, *args, candidates=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = (
            candidates if candidates is not None else OrderLine.objects.none()
        )
        self.fields["line"].label_from_instance = lambda line: (
            f"{line.order.full_name} ({line.person.cpr_masked}) – {line.kind.name}, "
            f"{line.order.unit.name}, {line.get_status_display().lower()}"
        )


class DiscardForm(forms.Form):
    reason = forms.CharField(label=_("Why is it not a certificate?"), max_length=500)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        # Ids of its own: it shares the page with ResolveForm, whose field has the same name.
        kwargs.setdefault("auto_id", "id_discard_%s")
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
