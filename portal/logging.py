import logging

from .cpr import redact_cprs


class RedactingFormatter(logging.Formatter):
    """Masks CPR-like numbers in the finished line: message, arguments and traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_cprs(super().format(record))
