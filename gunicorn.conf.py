# Gunicorn for Attestportal: gunicorn -c gunicorn.conf.py portal.wsgi
# Command-line options override what is set here (e.g. --workers 8).
import logging
import sys
from pathlib import Path

from gunicorn.glogging import Logger

sys.path.insert(0, str(Path(__file__).resolve().parent))

from portal.cpr import redact_cprs  # noqa: E402  (needs the project on the path)

bind = "127.0.0.1:8000"
workers = 4
# A request that runs longer than this has its worker killed and replaced: with four
# workers, a few requests stuck on a hostile upload (or a slow outside system) would
# otherwise take the portal down for everyone. The import limits (IMPORT_MAX_*) keep an
# honest upload's dry run to a few seconds, well inside it.
timeout = 60
accesslog = "-"
errorlog = "-"
# The path without its query string, and no referer: search terms (names, CPR numbers)
# travel in query strings, and the access log is kept longer than the portal keeps data.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


class _RedactCprs(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact_cprs(record.getMessage()), ()
        return True


class CprRedactingLogger(Logger):
    """Gunicorn's logger, with anything CPR-shaped masked in access and error lines alike
    (a CPR number may still sit in a path, a user agent or an error about a request)."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, _RedactCprs) for f in log.filters):
                log.addFilter(_RedactCprs())


logger_class = CprRedactingLogger
