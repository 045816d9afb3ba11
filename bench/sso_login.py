"""Login through the OpenID provider with 50 mapped groups: time per login.

Starts the real test provider (scripts/oidc, needs node) and runs in a throwaway test
database on whatever DATABASE_URL points at:
    .venv/bin/python bench/sso_login.py [--groups 50] [--repeat 20]

"callback" is the portal's own part (code exchange, ID token check against the JWKS,
userinfo, user and group mapping); "whole" adds the provider's login page round trips.
Every other login drops five groups, so memberships are really removed and re-added.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--extra-groups",
        type=int,
        default=0,
        help="unmapped groups on top; past 200 in all, the token carries Entra ID's overage "
        "claim and the groups come from a Microsoft Graph on loopback",
    )
    args = parser.parse_args()

    from tests.oidc_provider import portal_settings, start_provider, stop_provider

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    provider = start_provider(Path(tempfile.mkdtemp()) / "accounts.json")
    graph = None
    try:

        class Settings:  # portal_settings() sets attributes, as pytest's fixture does
            def __setattr__(self, name, value):
                setattr(settings, name, value)

            def __getattr__(self, name):
                return getattr(settings, name)

        portal_settings(Settings(), provider)
        graph = start_graph(provider) if args.groups + args.extra_groups > 200 else None
        if graph is not None:
            settings.OIDC_GRAPH_MEMBER_GROUPS_URL = graph.url
        run(provider, args.groups, args.repeat, extra=args.extra_groups)
    finally:
        if graph is not None:
            graph.shutdown()
        stop_provider(provider)
        connection.creation.destroy_test_db(old_name, verbosity=0)


def start_graph(provider):
    """Microsoft Graph's getMemberGroups on loopback: the account's groups from the
    provider's accounts file, as Graph would have them."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            groups = json.loads(provider.accounts_file.read_text())["bench.user"]["groups"]
            body = json.dumps({"value": groups}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{server.server_port}/v1.0/me/getMemberGroups"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def median(values):
    # A hand-made median keeps this script free of anything but the standard timing.
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def run(provider, n_groups: int, repeat: int, *, extra: int = 0) -> None:
    from django.urls import reverse

    from orders.catalogue import ensure_standard_catalogue
    from orders.models import CertificateKind, LegalBasis
    from portal.models import Area, GroupMapping, Membership, Unit, User
    from tests.oidc_provider import sign_in_at_provider

    ensure_standard_catalogue(CertificateKind, LegalBasis)
    area = Area.objects.create(name="Bench")
    groups = []
    for i in range(n_groups):
        unit = Unit.objects.create(area=area, name=f"Enhed {i}")
        GroupMapping.objects.create(
            group_id=f"group-{i:03d}", unit=unit, membership_role=Membership.Role.MANAGER
        )
        groups.append(f"group-{i:03d}")

    callback_ms, whole_ms, queries = [], [], []
    for i in range(repeat + 1):
        fillers = [f"unmapped-{j:04d}" for j in range(extra)]
        provider.set_account("bench.user", groups=(groups if i % 2 == 0 else groups[5:]) + fillers)
        client = Client()
        started = time.perf_counter()
        start = client.get(reverse("oidc_authentication_init"))
        back = urlsplit(sign_in_at_provider(start["Location"], "bench.user"))
        before_callback = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{back.path}?{back.query}")
        done = time.perf_counter()
        assert response.status_code == 302 and response["Location"] == reverse("home"), response
        if i == 0:
            continue  # the first login creates the user and warms up the provider
        callback_ms.append((done - before_callback) * 1000)
        whole_ms.append((done - started) * 1000)
        queries.append(len(captured.captured_queries))
    user = User.objects.get(sso_subject="bench.user")
    assert user.memberships.count() in (n_groups, n_groups - 5)
    overage = " (overage: groups read from Graph)" if n_groups + extra > 200 else ""
    print(
        f"SSO login with {n_groups} mapped groups of {n_groups + extra}{overage} "
        f"({repeat} logins, {connection.vendor}):"
    )
    print(
        f"  callback (code exchange, token check, mapping): median "
        f"{median(callback_ms):.0f} ms, max {max(callback_ms):.0f} ms, "
        f"{median(queries):.0f} queries"
    )
    print(f"  whole login incl. the provider's pages: median {median(whole_ms):.0f} ms")


if __name__ == "__main__":
    main()
