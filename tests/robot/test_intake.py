import json
import os
import time

from django.core.management import call_command

from robot.models import Document
from robot.sweeping import sweep_drop_folder

from ..conftest import SAMPLES
from .conftest import MANIFEST


def test_the_command_prints_one_json_object_per_file_with_exactly_the_agreed_keys(rules, capsys):
    files = [str(SAMPLES / entry["file"]) for entry in MANIFEST]
    call_command("evaluate_certificate", *files, "--json")
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == len(MANIFEST)
    for row, entry in zip(rows, MANIFEST, strict=True):
        # The content keys are the agreed ones; provenance has a key of its own.
        assert set(row) == {"file", "kind", "outcome", "cpr", "reason", "provenance"}
        assert (row["kind"], row["outcome"], row["cpr"]) == (
            entry["kind"],
            entry["outcome"],
            entry["cpr"],
        )
        assert all(
            set(check) == {"name", "passed", "detail", "neutral"} for check in row["provenance"]
        )
    # The forwarded sample comes from nobody the installation trusts, and a file read from
    # disk did not come from the mailbox: its forwarding is not verified, which holds it
    # for a person through the channel check, not as a forgery.
    (mail,) = [row for row in rows if ".eml" in row["file"]]
    assert {"name": "mail", "passed": True, "neutral": True}.items() <= mail["provenance"][
        0
    ].items()
    assert "Ikke bekræftet" in mail["provenance"][0]["detail"]
    assert not Document.objects.exists()


def test_the_command_runs_as_a_program_and_exits_0(rules, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": "sqlite:///" + str(tmp_path / "none.sqlite3")}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "evaluate_certificate",
            "--json",
            "--standard-rules",
            str(SAMPLES / "boerneattest_ren.eml"),
            str(SAMPLES / "ukendt_dokument.pdf"),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    first = json.loads(result.stdout.splitlines()[0])
    assert first["outcome"] == "clean" and first["cpr"] == "010190-xxxx"


def test_the_drop_folder_is_swept_and_files_moved_after_storing(rules, tmp_path, settings):
    folder = tmp_path / "drop"
    folder.mkdir()
    for name in ("boerneattest_ren.pdf", "afslag_boerneattest.pdf"):
        path = folder / name
        path.write_bytes((SAMPLES / name).read_bytes())
        os.utime(path, (time.time() - 60, time.time() - 60))
    (folder / "still-writing.pdf").write_bytes(b"%PDF-")

    assert sweep_drop_folder(str(folder)) == 2

    assert Document.objects.filter(source="folder").count() == 2
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == ["still-writing.pdf"]
    assert len(list((folder / "behandlet").iterdir())) == 2
