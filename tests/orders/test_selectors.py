from orders.selectors import certificate_options, orders_visible_to
from portal.selectors import units_of

from ..factories import MembershipFactory, UnitFactory, order_for


def codes(options):
    return [(o.kind.code, o.required) for o in options]


def test_a_profile_offers_its_required_and_optional_certificates(teacher, school_secretary):
    assert codes(certificate_options(teacher)) == [("child", True), ("criminal_public", True)]
    assert codes(certificate_options(school_secretary)) == [("criminal_public", False)]


def test_contact_with_children_adds_the_child_certificate_where_the_area_allows_it(
    school_secretary, care_helper
):
    with_children = certificate_options(school_secretary, child_contact=True)
    assert codes(with_children) == [("child", True), ("criminal_public", False)]
    assert with_children[0].basis.text == "Ansættelse i børnefagligt område"
    # Elderly care has no child-certificate purpose: the answer changes nothing.
    assert codes(certificate_options(care_helper, child_contact=True)) == [
        ("criminal_public", True)
    ]


def test_managers_see_only_their_own_units_orders(
    school, care_home, teacher, care_helper, school_manager, care_manager, payroll, admin_user
):
    school_order = order_for(unit=school, profile=teacher, by=school_manager)
    care_order = order_for(unit=care_home, profile=care_helper, by=care_manager)

    assert list(orders_visible_to(school_manager)) == [school_order]
    assert list(orders_visible_to(care_manager)) == [care_order]
    assert set(orders_visible_to(payroll)) == {school_order, care_order}
    assert not orders_visible_to(admin_user).exists()


def test_a_manager_of_two_units_sees_both_and_each_order_once(
    school, care_home, teacher, care_helper, school_manager
):
    MembershipFactory(user=school_manager, unit=care_home, role="secretary")
    order_for(unit=school, profile=teacher, by=school_manager)
    order_for(unit=care_home, profile=care_helper, by=school_manager)

    assert orders_visible_to(school_manager).count() == 2
    assert set(units_of(school_manager)) == {school, care_home}


def test_inactive_units_cannot_be_ordered_for(school_area, school_manager):
    closed = UnitFactory(area=school_area, is_active=False)
    MembershipFactory(user=school_manager, unit=closed)
    assert closed not in units_of(school_manager)
