"""Forms of the new-hire pages: the order form filled in from a hire, the manager's
"not needed", and payroll's upload of the HR system's new-hire report."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.tabular import TableError, check_file_size

from .forms import OrderForm
from .models import Hire


class HireOrderForm(OrderForm):
    """The order form, filled in from the HR system. The CPR number comes from the hire
    on the server: it is never sent to the browser in full."""

    def __init__(self, *args, hire: Hire, **kwargs):
        self.hire = hire
        if args and args[0] is not None:
            data = args[0].copy()
            data["unit"] = str(hire.unit_id)  # the hire's unit, whatever the browser sent
            args = (data, *args[1:])
        else:
            kwargs["initial"] = {
                "unit": hire.unit_id,
                "full_name": hire.full_name,
                "start_date": hire.start_date,
                "profile": hire.profile_id,
                **kwargs.get("initial", {}),
            }
        super().__init__(*args, **kwargs)
        del self.fields["cpr"]
        # <input type="date"> only takes ISO dates; the Danish format would leave it empty.
        self.fields["start_date"].widget.format = "%Y-%m-%d"
        self.fields["unit"].widget = forms.HiddenInput()

    def clean_start_date(self):
        # The HR system's start date may already have passed; the certificate is still due.
        start_date = self.cleaned_data["start_date"]
        if start_date == self.hire.start_date:
            return start_date
        return super().clean_start_date()


class NotNeededForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is no certificate needed?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Payroll sees the reason."),
    )


class HireFileForm(forms.Form):
    file = forms.FileField(label=_("New-hire report (CSV or XLSX)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a CSV or XLSX file."))
        # Before it is read: a file too large is refused without being read into memory.
        try:
            check_file_size(upload.size)
        except TableError as error:
            raise forms.ValidationError(str(error)) from None
        return upload
