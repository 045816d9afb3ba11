"""The administrator's import of the organisation from the HR system: upload, see the
dry run, apply. Administrators only; 404 for everyone else."""

import base64
import binascii

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from . import org_import
from .decorators import staff_required
from .models import OrgImport
from .org_sources import FileSource
from .tabular import TableError, check_file_size


class OrgFileForm(forms.Form):
    units = forms.FileField(
        label=gettext_lazy("Units (CSV or XLSX; managers may be on the second sheet)")
    )
    managers = forms.FileField(
        label=gettext_lazy("Managers (CSV or XLSX), optional"), required=False
    )


def untyped_units_warning(count: int) -> str:
    # The import has no unit type: a new school is offered every position of its area,
    # music teachers of the culture school included, until someone sets it.
    return ngettext(
        "%(counter)s new unit has no unit type; set it in the administration, or it is "
        "offered every position in the area.",
        "%(counter)s new units have no unit type; set it in the administration, or they are "
        "offered every position in the area.",
        count,
    ) % {"counter": count}


def _read(files: dict[str, tuple[str, bytes]]) -> org_import.OrgPlan:
    source = FileSource(units=files["units"], managers=files.get("managers"))
    return org_import.plan_org_import(*source.read())


def _encode(files) -> dict[str, str]:
    return {key: f"{name}:{base64.b64encode(data).decode()}" for key, (name, data) in files.items()}


def _decode(post) -> dict[str, tuple[str, bytes]]:
    files = {}
    for key in ("units", "managers"):
        if value := post.get(f"payload_{key}"):
            name, _sep, data = value.partition(":")
            files[key] = (name, base64.b64decode(data, validate=True))
    return files


@staff_required
@require_http_methods(["GET", "POST"])
def organisation_import(request: HttpRequest) -> HttpResponse:
    form = OrgFileForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    try:
        if request.method == "POST" and "apply" in request.POST:
            plan = _read(_decode(request.POST))
            org_import.apply_org_import(plan, actor=request.user, source=OrgImport.Source.FILE)
            messages.success(request, _("The organisation has been updated."))
            if plan.new:
                messages.warning(request, untyped_units_warning(len(plan.new)))
            return redirect("org_import")
        if request.method == "POST" and form.is_valid():
            uploads = [(key, form.cleaned_data.get(key)) for key in ("units", "managers")]
            # The sizes before reading: a file too large is refused without being read.
            check_file_size(sum(upload.size for _key, upload in uploads if upload))
            files = {key: (upload.name, upload.read()) for key, upload in uploads if upload}
            context.update(plan=_read(files), payload=_encode(files))
    except (TableError, org_import.OrgImportError, binascii.Error, KeyError) as error:
        messages.error(request, str(error) or _("The file could not be read."))
    context["imports"] = OrgImport.objects.select_related("created_by")[:20]
    context["columns"] = org_import.columns_shown()
    return render(request, "portal/org_import.html", context)
