"""A Matrix client session against a homeserver behind Traefik, with the standard library
only (scripts/demo.sh matrix and tests/integration/test_matrix.py use it).

    secret=$(docker exec synapse sed -n 's/^registration_shared_secret: //p' /data/secrets.yaml)
    python scripts/matrix_session.py --url http://127.0.0.1:80 --host matrix.localhost \\
        --secret "$secret"

versions, shared-secret registration (the HMAC of Synapse's admin API), log in, create a
room, send a message, read it back; each step printed as it is done.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import secrets
import ssl
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class Client:
    """HTTP to ``url`` (Traefik's entrypoint) with ``Host: host`` (the router's rule)."""

    url: str
    host: str
    token: str | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url.rstrip("/") + path, data=data, method=method)
        req.add_header("Host", self.host)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        # Local mode's https uses Traefik's default certificate: not one to verify.
        context = ssl._create_unverified_context() if self.url.startswith("https") else None
        try:
            with urllib.request.urlopen(req, timeout=30, context=context) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path}: HTTP {e.code}: {e.read()[:300]!r}") from e


def register(client: Client, secret: str, user: str, password: str) -> str:
    """Shared-secret registration (POST /_synapse/admin/v1/register); the new user's id."""
    nonce = client.call("GET", "/_synapse/admin/v1/register")["nonce"]
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), user.encode(), password.encode(), b"notadmin"]))
    body = {"nonce": nonce, "username": user, "password": password, "admin": False,
            "mac": mac.hexdigest()}  # fmt: skip
    return str(client.call("POST", "/_synapse/admin/v1/register", body)["user_id"])


def login(client: Client, user: str, password: str) -> str:
    """Log in with a password; the access token (also kept in ``client``)."""
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password}  # fmt: skip
    client.token = str(client.call("POST", "/_matrix/client/v3/login", body)["access_token"])
    return client.token


def create_room(client: Client, name: str) -> str:
    return str(client.call("POST", "/_matrix/client/v3/createRoom", {"name": name})["room_id"])


def send(client: Client, room: str, text: str) -> str:
    path = (f"/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/send/m.room.message/"
            f"{secrets.token_hex(8)}")  # fmt: skip
    return str(client.call("PUT", path, {"msgtype": "m.text", "body": text})["event_id"])


def messages(client: Client, room: str) -> list[str]:
    """The room's text messages, newest first."""
    path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/messages?dir=b&limit=50"
    chunk = client.call("GET", path)["chunk"]
    return [e["content"]["body"] for e in chunk if e.get("type") == "m.room.message"]


def wait_routed(client: Client, timeout: float = 60) -> list[str]:
    """The versions the homeserver speaks, once Traefik routes to it: Traefik adds a route
    when the container's health check has passed, a moment after it has."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return list(client.call("GET", "/_matrix/client/versions")["versions"])
        except (RuntimeError, OSError) as e:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no route to Synapse after {timeout:.0f}s: {e}") from e
            time.sleep(0.5)


@dataclass
class Session:
    user_id: str
    password: str
    room: str
    text: str


def session(client: Client, secret: str, say: Any = print) -> Session:
    """The whole session; raises if a step fails or the message does not come back."""
    versions = wait_routed(client)
    say(f"GET /_matrix/client/versions: {', '.join(versions[-3:])} ...")
    user, password = f"demo{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    user_id = register(client, secret, user, password)
    say(f"registered {user_id} (shared-secret registration)")
    login(client, user, password)
    say(f"logged in as {user_id}")
    room = create_room(client, "stackctl demo")
    say(f"created room {room}")
    text = f"hello from stackctl ({secrets.token_hex(4)})"
    event = send(client, room, text)
    say(f"sent {text!r} ({event})")
    got = messages(client, room)
    if text not in got:
        raise RuntimeError(f"the message did not come back: {got}")
    say(f"read it back: {got[0]!r}")
    return Session(user_id, password, room, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:80", help="Traefik's entrypoint")
    parser.add_argument("--host", default="matrix.localhost", help="the Host header")
    parser.add_argument("--secret", required=True, help="Synapse's registration_shared_secret")
    args = parser.parse_args()
    session(Client(args.url, args.host), args.secret)


if __name__ == "__main__":
    main()
