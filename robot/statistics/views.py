"""The statistics page, its exports and the monthly report. Figures come from the
package; what a user may see is decided there (Scope.for_user)."""

import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from orders.models import CertificateKind
from portal import exports
from portal.models import Area
from portal.pdf import letter_context, render_pdf

from .. import statistics
from .charts import charts_for
from .period import Filters, add_months

MONTH_FORMAT = "%Y-%m"


class MonthField(forms.CharField):
    """A month as YYYY-MM (what <input type="month"> sends)."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return datetime.datetime.strptime(value, MONTH_FORMAT).date()
        except ValueError:
            raise forms.ValidationError(_("Enter a month as YYYY-MM.")) from None


class FilterForm(forms.Form):
    fra = MonthField(
        label=gettext_lazy("From month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
    )
    til = MonthField(
        label=gettext_lazy("To month (incl.)"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
    )
    omraade = forms.ModelChoiceField(
        label=gettext_lazy("Area"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=gettext_lazy("All areas"),
    )
    attest = forms.ModelChoiceField(
        label=gettext_lazy("Certificate"),
        queryset=CertificateKind.objects.none(),
        required=False,
        empty_label=gettext_lazy("All certificates"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        areas, _kinds = statistics.filter_choices(user)
        self.fields["omraade"].queryset = Area.objects.filter(pk__in=[a.pk for a in areas])
        self.fields["attest"].queryset = CertificateKind.objects.order_by("sort_order")

    def clean(self):
        data = super().clean()
        if data.get("fra") and data.get("til") and data["til"] < data["fra"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data

    def show_period(self, filters: Filters) -> None:
        """The month fields show the months the figures are for, also when they were left
        empty (the default period applies); a refused choice stays as typed, to correct."""
        months = {"fra": f"{filters.start:%Y-%m}", "til": f"{add_months(filters.end, -1):%Y-%m}"}
        if not self.is_bound:
            self.initial.update(months)
        elif self.is_valid():
            data = self.data.copy()
            for name, value in months.items():
                if not data.get(name):
                    data[name] = value
            self.data = data

    def filters(self) -> Filters:
        default = statistics.default_filters()
        if not self.is_valid():
            return default
        data = self.cleaned_data
        end = add_months(data["til"], 1) if data.get("til") else default.end
        start = data.get("fra") or add_months(end, -12)
        return Filters(
            start=start,
            end=end,
            area_id=data["omraade"].pk if data.get("omraade") else None,
            kind_id=data["attest"].pk if data.get("attest") else None,
        )


def _filters(request: HttpRequest) -> tuple[FilterForm, Filters]:
    form = FilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    form.show_period(filters)
    return form, filters


@login_required
@require_GET
def statistics_page(request: HttpRequest) -> HttpResponse:
    form, filters = _filters(request)
    stats = statistics.current_statistics(user=request.user, filters=filters)
    context = {
        "form": form,
        "stats": stats,
        "tables": stats.tables(),
        "charts": charts_for(stats),
        "query": request.GET.urlencode(),
        "last_month": add_months(timezone.localdate().replace(day=1), -1),
    }
    template = "robot/statistics.html#figures" if request.htmx else "robot/statistics.html"
    return render(request, template, context)


@login_required
@require_GET
def statistics_export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    _form, filters = _filters(request)
    tables = statistics.current_statistics(user=request.user, filters=filters).tables()
    if table not in tables:
        raise Http404
    data = tables[table]
    name = f"statistik-{data.name}-{filters.start:%Y%m}-{add_months(filters.end, -1):%Y%m}"
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        response.write("\ufeff")  # Excel reads the file as UTF-8 only with the mark
        writer = exports.csv_writer(response, delimiter=";")
        writer.writerow(data.headers)
        writer.writerows(data.rows)
        return response
    return HttpResponse(
        # The sheet is named as the table on the page (the file name keeps the ASCII name).
        exports.xlsx_bytes(title=data.title, headers=data.headers, rows=data.rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


def monthly_report_pdf(*, user, month: datetime.date) -> bytes:
    """The month's figures as a PDF, for what the user may see."""
    filters = Filters.month(month)
    stats = statistics.current_statistics(user=user, filters=filters)
    return render_pdf(
        "letters/monthly_report.html",
        letter_context(
            stats=stats,
            tables=stats.tables(),
            charts=charts_for(stats),
            pdf=True,
            month=filters.start,
            sender="",
        ),
    )


@login_required
@require_GET
def monthly_report(request: HttpRequest) -> HttpResponse:
    try:
        month = datetime.datetime.strptime(request.GET.get("maaned", ""), MONTH_FORMAT).date()
    except ValueError:
        month = add_months(timezone.localdate().replace(day=1), -1)
    pdf = monthly_report_pdf(user=request.user, month=month)
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="maanedsrapport-{month:%Y-%m}.pdf"'},
    )
