import datetime

import time_machine
from django.urls import reverse

from ..factories import UserFactory

LOGIN = reverse("login")


def test_a_user_logs_in_with_username_and_password(client, school_manager):
    response = client.post(LOGIN, {"username": "leder.a", "password": "secret-password-1"})
    assert response.status_code == 302
    assert client.get(reverse("orders:list")).status_code == 200


def test_a_wrong_password_is_refused_in_danish(client, school_manager):
    response = client.post(LOGIN, {"username": "leder.a", "password": "wrong"})
    assert response.status_code == 200
    assert "Indtast venligst korrekt brugernavn og adgangskode" in response.content.decode()


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    client, settings, school_manager
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "leder.a", "password": "wrong"})

    response = client.post(LOGIN, {"username": "leder.a", "password": "secret-password-1"})

    assert response.status_code == 429
    assert "For mange mislykkede" in response.content.decode()
    assert client.get(reverse("orders:list")).status_code == 302


def test_the_lockout_ends_after_the_cool_off_time(client, settings, school_manager):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "leder.a", "password": "wrong"})
    later = (
        datetime.datetime.now(datetime.UTC)
        + settings.AXES_COOLOFF_TIME
        + datetime.timedelta(minutes=1)
    )
    with time_machine.travel(later):
        response = client.post(LOGIN, {"username": "leder.a", "password": "secret-password-1"})
    assert response.status_code == 302


def test_logout_ends_the_session(client, school_manager):
    client.force_login(school_manager)
    session_key = client.session.session_key

    client.post(reverse("logout"))

    assert client.get(reverse("orders:list")).status_code == 302
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()


def test_an_idle_session_times_out(client, settings, school_manager):
    client.force_login(school_manager)
    idle = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    start = datetime.datetime.now(datetime.UTC)

    with time_machine.travel(start + idle - datetime.timedelta(minutes=1)):
        assert client.get(reverse("orders:list")).status_code == 200  # activity renews it
    with time_machine.travel(start + 2 * idle - datetime.timedelta(minutes=2)):
        assert client.get(reverse("orders:list")).status_code == 200
    with time_machine.travel(start + 3 * idle):
        response = client.get(reverse("orders:list"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_an_inactive_user_cannot_log_in(client, db):
    UserFactory(username="gone", is_active=False)
    response = client.post(LOGIN, {"username": "gone", "password": "secret-password-1"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_session_ends_after_its_absolute_lifetime_however_busy(client, settings, school_manager):
    settings.SESSION_ABSOLUTE_HOURS = 10
    start = datetime.datetime.now(datetime.UTC)
    with time_machine.travel(start, tick=False):
        client.post(LOGIN, {"username": "leder.a", "password": "secret-password-1"})

    # A page every 20 minutes keeps the idle timeout away all day long.
    for step in range(1, 30):
        with time_machine.travel(start + datetime.timedelta(minutes=20 * step), tick=False):
            assert client.get(reverse("orders:list")).status_code == 200
    with time_machine.travel(start + datetime.timedelta(hours=10, minutes=1), tick=False):
        response = client.get(reverse("orders:list"), follow=True)

    assert response.redirect_chain[0][0].startswith(LOGIN)
    page = response.content.decode()
    assert "Du er blevet logget ud, fordi du loggede ind for mere end 10 timer siden." in page
    assert client.get(reverse("orders:list")).status_code == 302
