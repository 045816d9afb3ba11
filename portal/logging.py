import logging
import re

# Ten digits, optionally split 6+4 by a dash or a space, also URL-encoded ("+", %20, %2D):
# anything that could be a CPR number, wherever in a log line it comes from.
_CPR_LIKE = re.compile(r"(?<!\d)(\d{6})(?:[- +]|%20|%2[dD])?\d{4}(?!\d)")


def redact_cpr(text: str) -> str:
    return _CPR_LIKE.sub(r"\1-xxxx", text)


class RedactingFormatter(logging.Formatter):
    """Masks CPR-like numbers in the finished line: message, arguments and traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_cpr(super().format(record))
