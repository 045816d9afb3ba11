from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Area, Membership, Unit, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "email", "is_payroll", "is_staff"]
    list_filter = ["is_payroll", "is_staff", "is_active"]
    fieldsets = BaseUserAdmin.fieldsets + ((_("Attestportal"), {"fields": ["is_payroll"]}),)
    inlines = [MembershipInline]


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name"]
    inlines = [UnitInline]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "is_active"]
    list_filter = ["area", "is_active"]
    search_fields = ["name", "area__name"]
    inlines = [MembershipInline]
