import logging
import re

# Ten digits, optionally split 6+4 by a dash or space: anything that could be a CPR number.
_CPR_LIKE = re.compile(r"(?<!\d)(\d{6})[- ]?\d{4}(?!\d)")


def redact_cpr(text: str) -> str:
    return _CPR_LIKE.sub(r"\1-xxxx", text)


class RedactCprFilter(logging.Filter):
    """Masks CPR-like numbers in every log line, whatever code logged them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_cpr(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
