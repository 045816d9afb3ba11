"""Accessible names for fields the admin shows without a label of their own.

A tabular inline names its fields only in the column headings, which assistive technology
does not read for an input (WCAG 2.1, 1.3.1 and 4.1.2): every field of every row, the
"delete" box included, gets its label as its accessible name. An autocomplete field is
drawn by select2, which ignores `aria-label`; js/admin_labels.js passes it on."""

from django.contrib import admin
from django.utils.text import capfirst


def _name_fields(form) -> None:
    for field in form.fields.values():
        if field.label and not field.widget.is_hidden:
            # The admin wraps related fields; the wrapped widget is the one rendered.
            widget = getattr(field.widget, "widget", field.widget)
            widget.attrs.setdefault("aria-label", str(capfirst(field.label)))


class LabelledTabularInline(admin.TabularInline):
    class Media:
        # After the admin's autocomplete script, whose boxes it names.
        js = ["admin/js/jquery.init.js", "admin/js/autocomplete.js", "js/admin_labels.js"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                _name_fields(form)

        LabelledFormSet.__name__ = formset.__name__
        return LabelledFormSet
