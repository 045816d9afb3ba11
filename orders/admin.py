from django.contrib import admin

from .models import CertificateKind, LegalBasis, PositionProfile, ProfileRequirement

# Orders, persons and the access log are deliberately not in the admin: administrators
# maintain the catalogue and the organisation and have no need to see criminal-record data.


class LegalBasisInline(admin.TabularInline):
    model = LegalBasis
    extra = 0


@admin.register(CertificateKind)
class CertificateKindAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "sort_order"]
    inlines = [LegalBasisInline]


@admin.register(LegalBasis)
class LegalBasisAdmin(admin.ModelAdmin):
    list_display = ["text", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["text"]


class ProfileRequirementInline(admin.TabularInline):
    model = ProfileRequirement
    extra = 1
    autocomplete_fields = ["legal_basis"]


@admin.register(PositionProfile)
class PositionProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "is_active"]
    list_filter = ["area", "is_active"]
    search_fields = ["name"]
    inlines = [ProfileRequirementInline]
