"""A small OpenID Connect provider on a loopback port, for the single sign-on browser tests.

It does what a county's on-premises identity provider (say Keycloak) does in the
authorisation-code flow, and no more: the discovery document, an ``/authorize`` that signs
the next user in at once (no login form: the test sets :attr:`Provider.claims` first), a
``/token`` that checks the client's secret and the code and answers with an RS256-signed ID
token carrying the ``nonce`` the client sent, and the ``/jwks`` to check its signature.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CLIENT_ID = "gridgov"
CLIENT_SECRET = "gridgov-test-secret"
KID = "gridgov-test-key"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass
class Provider:
    """The provider's state: who signs in next, and what it was asked."""

    issuer: str = ""
    #: Claims of the next ID token (``iss``, ``aud``, ``iat`` and ``nonce`` are added).
    claims: dict[str, Any] = field(default_factory=dict)
    #: Paths requested, in order (``/authorize``, ``/token``…).
    requests: list[str] = field(default_factory=list)
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email"],
        }

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        jwk = {"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256",
               "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}  # fmt: skip
        return {"keys": [jwk]}

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        payload = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "nonce": nonce}
        payload |= self.claims
        header = {"alg": "RS256", "typ": "JWT", "kid": KID}
        signing_input = ".".join(
            _b64(json.dumps(part, ensure_ascii=False).encode("utf-8")) for part in (header, payload)
        ).encode("ascii")
        signature = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode('ascii')}.{_b64(signature)}"

    def authorize(self, query: dict[str, str]) -> str:
        """The redirect back to the client with a fresh code (the user "signs in" at once)."""
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            raise ValueError("unknown client or response type")
        code = secrets.token_urlsafe(16)
        self._codes[code] = {"nonce": query.get("nonce", ""),
                             "redirect_uri": query["redirect_uri"]}  # fmt: skip
        back = {"code": code, "state": query.get("state", "")}
        return f"{query['redirect_uri']}?{urllib.parse.urlencode(back)}"

    def token(self, form: dict[str, str], authorization: str) -> dict[str, Any]:
        """The tokens for a code, once; the client authenticates with its secret."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode("utf-8")
            client_id, _, secret = (urllib.parse.unquote(p) for p in decoded.partition(":"))
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            raise PermissionError("client authentication failed")
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            raise PermissionError("unknown or used code")
        return {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                "expires_in": 300, "id_token": self.id_token(grant["nonce"])}  # fmt: skip


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            provider.requests.append(url.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(provider.metadata())
            elif url.path == "/jwks":
                self._json(provider.jwks())
            elif url.path == "/authorize":
                query = dict(urllib.parse.parse_qsl(url.query))
                try:
                    location = provider.authorize(query)
                except (KeyError, ValueError) as exc:
                    self._json({"error": "invalid_request", "error_description": str(exc)}, 400)
                    return
                self.send_response(302)
                self.send_header("Location", location)
                self.end_headers()
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            provider.requests.append(url.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8")))
            if url.path != "/token":
                self._json({"error": "not_found"}, 404)
                return
            try:
                self._json(provider.token(form, self.headers.get("Authorization", "")))
            except PermissionError as exc:
                self._json({"error": "invalid_grant", "error_description": str(exc)}, 400)

    return Handler


@contextmanager
def serve_provider() -> Iterator[Provider]:
    """Start a :class:`Provider` on a free loopback port; stop it on exit."""
    provider = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
