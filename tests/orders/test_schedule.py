"""The deadline schedule through a real Celery beat and worker, on the configured broker
(Redis or RabbitMQ in CI; a folder-based broker where none is configured)."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from orders import batching
from orders.models import Notification, OrderLine

from ..factories import order_for

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_env(tmp_path):
    broker = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
    (tmp_path / "broker").mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_FILESYSTEM_BROKER_DIR": str(tmp_path / "broker"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEADLINES_EVERY_SECONDS": "1",
        "EMAIL_RETRY_EVERY_SECONDS": "2",
        "EMAIL_URL": f"filemail:///{tmp_path / 'mail'}",  # path after the third slash
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def start(args, env, log):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_expire_an_unanswered_line_and_email_the_manager(
    school, teacher, school_manager, payroll, celery_env, tmp_path
):
    school_manager.email = "leder@nordskolen.example"
    school_manager.save()
    order = order_for(unit=school, profile=teacher, by=school_manager, name="Sofie Holm")
    for batch in batching.prepare_batches(by=payroll):
        batching.mark_batch_ordered(batch=batch, by=payroll)
    OrderLine.objects.update(ordered_at=timezone.now() - datetime.timedelta(days=20))

    log = open(tmp_path / "celery.log", "w")
    processes = [
        start(
            [
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            celery_env,
            log,
        ),
        start(
            ["beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule")],
            celery_env,
            log,
        ),
    ]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sent = Notification.objects.filter(template="line_expired", state="sent").count()
            if sent == 2:
                break
            time.sleep(0.5)
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=20)
        log.close()

    output = (tmp_path / "celery.log").read_text()
    assert set(order.lines.values_list("status", flat=True)) == {"expired"}, output[-3000:]
    assert Notification.objects.filter(template="line_expired", state="sent").count() == 2, output[
        -3000:
    ]
    mails = "".join(p.read_text() for p in (tmp_path / "mail").iterdir())
    assert "leder@nordskolen.example" in mails
