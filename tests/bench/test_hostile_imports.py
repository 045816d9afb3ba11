"""The hostile-imports bench on small files with small limits: every case is refused with
its Danish reason, nothing is applied, the file moves aside and someone is told."""

import pytest

from bench.hostile_imports import CASES, SMOKE_LIMITS, run_case, serve_sd


@pytest.fixture
def sd_server():
    answers = {}
    server, url = serve_sd(answers)
    yield answers, url
    server.shutdown()


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(CASES))
def test_every_hostile_import_is_refused_with_its_reason(name, settings, tmp_path, sd_server):
    for setting, value in SMOKE_LIMITS.items():
        setattr(settings, setting, value)
    _label, kind, _full, small = CASES[name]
    answers, url = sd_server
    path = None
    if kind == "sd":
        answers[name] = small()
    else:
        path = tmp_path / ("enheder.csv" if name.startswith("csv") else "enheder.xlsx")
        path.write_bytes(small())

    result = run_case(name, path, f"{url}/{name}")

    assert result["state"] == "failed"
    assert "ikke" in result["reason"] or "intet" in result["reason"]  # Danish, as shown
    assert result["applied"] is False
    assert result["moved"] is not False and result["emailed"] is not False
