"""A real OpenID Connect provider for the tests: npm's `oidc-provider` (scripts/oidc)
started on a free loopback port, once per test session. Installed with `npm ci` on
first use. Its accounts (name, e-mail, groups) are a JSON file the tests rewrite."""

import copy
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

SCRIPT_DIR = Path(__file__).resolve().parents[1] / "scripts" / "oidc"
CLIENT_ID, CLIENT_SECRET, OTHER_CLIENT_ID = "attestportal", "dev-secret", "other-app"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Provider:
    url: str
    accounts_file: Path
    process: subprocess.Popen

    def set_account(
        self, login: str, *, groups: list[str], name: str = "Test Person", email: str | None = None
    ) -> None:
        accounts = json.loads(self.accounts_file.read_text())
        accounts[login] = {
            "name": name,
            "email": email or f"{login}@kommune.example",
            "groups": groups,
        }
        self.accounts_file.write_text(json.dumps(accounts))


def start_provider(accounts_file: Path, port: int | None = None) -> Provider:
    node = shutil.which("node")
    if node is None:
        # A failure, not a skip: the sign-in tests are not optional.
        raise RuntimeError("The tests need node (Node.js 20+) for the OpenID provider")
    if not (SCRIPT_DIR / "node_modules" / "oidc-provider").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=SCRIPT_DIR, check=True
        )
    port = port or free_port()
    if not accounts_file.exists():
        accounts_file.write_text("{}")
    process = subprocess.Popen(
        [node, "provider.mjs"],
        cwd=SCRIPT_DIR,
        env={**os.environ, "PORT": str(port), "ACCOUNTS_FILE": str(accounts_file)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(f"{url}/.well-known/openid-configuration", timeout=1).ok:
                return Provider(url=url, accounts_file=accounts_file, process=process)
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the OpenID provider did not start")


def stop_provider(provider: Provider) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        provider.process.kill()


def portal_settings(settings, provider: Provider, *, scopes="openid email profile groups"):
    """Point the portal at the provider, as the settings block does from the environment."""
    settings.OIDC_OP_ISSUER = provider.url
    settings.SSO_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SCOPES = scopes
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider.url}/auth"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider.url}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider.url}/me"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider.url}/jwks"
    settings.OIDC_OP_LOGOUT_ENDPOINT = f"{provider.url}/session/end"
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [*policy["DIRECTIVES"]["form-action"], provider.url]
    settings.CONTENT_SECURITY_POLICY = policy
    if "portal.sso.OIDCBackend" not in settings.AUTHENTICATION_BACKENDS:
        settings.AUTHENTICATION_BACKENDS = [
            *settings.AUTHENTICATION_BACKENDS,
            "portal.sso.OIDCBackend",
        ]


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def sign_in_at_provider(
    authorization_url: str, login: str, browser: requests.Session | None = None
) -> str:
    """Go through the provider's own login page as a person would; return the URL the
    provider sends the browser back to (the portal's callback with code and state)."""
    browser = browser or requests.Session()
    response = browser.get(authorization_url, allow_redirects=False)
    for _ in range(10):
        location = response.headers.get("Location")
        if response.status_code in (302, 303) and location:
            target = urljoin(response.url, location)
            if not target.startswith(authorization_url.split("/auth")[0]):
                return target  # back to the portal
            response = browser.get(target, allow_redirects=False)
            continue
        form = forms_of(response.text)[0]
        fields = {**form["fields"], "login": login, "password": "any"}
        response = browser.post(
            urljoin(response.url, form["action"]), data=fields, allow_redirects=False
        )
    raise AssertionError("the provider never sent the browser back")
