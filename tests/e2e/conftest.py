import os
import re

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls in the
# tests themselves are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def demo(transactional_db):
    from robot.demo import load_demo_data

    load_demo_data()


@pytest.fixture
def login(live_server):
    def log_in(page, username, password="demo"):
        page.goto(f"{live_server.url}/log-ind/")
        page.get_by_label("Brugernavn").fill(username)
        page.get_by_label("Adgangskode").fill(password)
        page.get_by_role("button", name="Log ind").click()
        # Payroll lands on its day's work, everyone else on their orders.
        page.wait_for_url(re.compile(re.escape(live_server.url) + r"/(bestillinger|i-dag)/$"))

    return log_in
