"""The hostile-mail benchmark runs: the same paths through the sandbox, small."""

from bench.hostile_mail import passed, smoke


def test_the_hostile_mail_bench_reports_the_readers_figures():
    figures = {bomb["bomb"]: bomb for bomb in smoke()}

    assert all(passed(bomb) for bomb in figures.values())
    # A twentieth of each bomb: 2,500 parts and 500 levels are still past the bounds.
    assert figures["parts"]["ended"] == figures["nesting"]["ended"] == "unreadable"
    assert figures["dkim"]["lookups"] == 5
    assert all(bomb["reader_mb"] > 0 for bomb in figures.values())
    assert all(bomb["self_grown_mb"] < 50 for bomb in figures.values())
