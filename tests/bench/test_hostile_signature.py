"""The signature bomb's benchmark runs: the same path through the sandbox, small."""

from bench.hostile_signature import smoke
from robot import sandbox


def test_the_signature_bomb_bench_reports_the_readers_figures():
    # 2,000 objects fit the limits: pyHanko then sees the catalog changed after signing.
    figures = smoke()

    assert figures["status"] == "invalid" and figures["sandbox"] == sandbox.DONE
    assert figures["reader_mb"] > 0 and figures["self_grown_mb"] < 50
