"""The forgeries bench: a clean certificate carrying the real batch secret, by every
channel a hire can reach, in trial and automatic mode, clears no line."""

import pytest

from bench.hostile import forgeries
from orders.models import OrderLine


@pytest.mark.django_db
def test_no_forged_certificate_clears_a_line_by_any_channel(catalogue):
    assert forgeries() is True
    assert OrderLine.objects.filter(kind__code="child").count() == 14
    assert not OrderLine.objects.filter(status="cleared").exists()
