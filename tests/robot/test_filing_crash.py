"""A real Celery worker killed with SIGKILL in the middle of filing, before and after the
case system answered: afterwards nothing is filed twice and nothing is lost."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robot import filing
from robot.models import FilingJob

from ..factories import order_for
from ..orders.test_schedule import database_url
from .test_pipeline import receive

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tasks_to_the_broker():
    """Here the worker must do the filing, not this process (no in-process tasks)."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("moment", ["before_answer", "after_answer"])
def test_a_killed_worker_loses_nothing_and_files_nothing_twice(
    moment,
    fake_sbsys,
    school,
    teacher,
    school_manager,
    payroll,
    rules,
    tmp_path,
    settings,
    tasks_to_the_broker,
    robot_alone,
):
    from orders import batching

    fake_sbsys.add_case("0101904321")
    order_for(unit=school, profile=teacher, by=school_manager, cpr="0101904321")
    for batch in batching.prepare_batches(by=payroll):
        batching.mark_batch_ordered(batch=batch, by=payroll)
    receive("boerneattest_ren.pdf")  # clean: its line is cleared and a filing job created
    first_job = FilingJob.objects.get()
    if moment == "before_answer":
        fake_sbsys.stall_next_filing()
    else:
        fake_sbsys.lose_next_answer()

    (tmp_path / "broker").mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or "filesystem://",
        "CELERY_FILESYSTEM_BROKER_DIR": str(tmp_path / "broker"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DOCUMENT_ROOT": settings.DOCUMENT_ROOT,
        "ESDH_BACKEND": "sbsys",
        "ESDH_RATE_LIMIT": "1000",
        "SBSYS_TIMEOUT": "60",
        "SBSYS_URL": settings.SBSYS_URL,
        "SBSIP_URL": settings.SBSIP_URL,
        "SBSYS_CLIENT_ID": settings.SBSYS_CLIENT_ID,
        "SBSYS_CLIENT_SECRET": settings.SBSYS_CLIENT_SECRET,
        "SBSYS_USERNAME": settings.SBSYS_USERNAME,
        "SBSYS_PASSWORD": settings.SBSYS_PASSWORD,
        "SBSYS_FOLDER_TITLE": settings.SBSYS_FOLDER_TITLE,
        "EMAIL_URL": "dummymail://",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(tmp_path / "worker.log", "w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # Wake the worker through the broker, as a new job or the beat schedule would.
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import django,os;"
                "os.environ.setdefault('DJANGO_SETTINGS_MODULE','portal.settings');"
                "django.setup();from robot.tasks import file_due;file_due.delay()",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        # The worker is inside the filing call, waiting for an answer that does not come.
        assert wait_for(lambda: any("journaliser" in r for r in fake_sbsys.api_requests)), (
            tmp_path / "worker.log"
        ).read_text()[-2000:]
        if moment == "after_answer":
            assert wait_for(lambda: len(fake_sbsys.filings) == 1)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        log.close()

    first_job.refresh_from_db()
    assert first_job.state == "in_progress"  # claimed by a worker that is gone

    # The sweeper frees the claim; the next run must not file blindly a second time.
    assert filing.release_stale_claims(older_than=datetime.timedelta(0)) == 1
    filing.file_due()

    first_job.refresh_from_db()
    assert first_job.state == "manual" and first_job.reference in first_job.last_error
    # SBSYS got the first certificate at most once (a slow SBSYS files it late), never twice.
    wait_for(lambda: len(fake_sbsys.filings) >= 1, seconds=10)
    names = [f.metadata["DokumentNavn"] for f in fake_sbsys.filings]
    assert len(names) == len(set(names))
    assert sum(first_job.reference in name for name in names) <= 1
    if moment == "after_answer":
        assert sum(first_job.reference in name for name in names) == 1
