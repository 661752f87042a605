"""LTI tool speed: launch validations per second in one process, and launches per second end to end.

    python bench/lti_bench.py                          # 2,000 validations; 20 s of launches, 8 browsers
    python bench/lti_bench.py --validations 5000 --seconds 30 --clients 16

1. Validations: :class:`ToolLaunch.validate` in this process, the platform's
   JWKS cached after the first launch, as in a running worker. Each launch has
   its own state, nonce and id_token (made beforehand, outside the timing);
   the time covers every check, the database's single-use state and nonce,
   and storing the launch.
2. End to end: ``lms-export serve`` (gunicorn, two worker processes) on
   127.0.0.1, and ``--clients`` browsers in threads, each repeating a whole
   launch: GET the login (the tool records the state and redirects), the
   platform's id_token (signed here, as the platform would), POST it to the
   tool, and the card page back. The platform's JWKS is served from this
   process; each worker fetches it once.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

ROOT = Path(__file__).resolve().parent.parent
DECK = ROOT / "examples" / "every-type.yaml"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
CLIENT_ID, DEPLOYMENT = "bench-client", "bench-deployment"


class Platform:
    """Just enough of a platform: a key, its JWKS on 127.0.0.1, and signed launches."""

    def __init__(self) -> None:
        # The key object, not its PEM: PyJWT would parse a PEM again for every token, at 40 ms a time.
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        jwk = JWK.from_pem(pem)
        self.kid = jwk.thumbprint()
        jwks = json.dumps({"keys": [{**json.loads(jwk.export_public()), "kid": self.kid, "alg": "RS256"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(jwks)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def register(self, db: Path) -> None:
        from lms_export.lti.store import Store

        store = Store(db)
        store.add_platform(
            name="bench",
            kind="moodle",
            issuer=self.issuer,
            client_id=CLIENT_ID,
            auth_login_url=self.issuer + "/auth",
            auth_token_url=self.issuer + "/token",
            key_set_url=self.issuer + "/jwks",
            deployments=[DEPLOYMENT],
        )
        store.close()

    def id_token(self, nonce: str, target: str, user: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": user,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": DEPLOYMENT,
            LTI + "target_link_uri": target,
            LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            LTI + "resource_link": {"id": "link-1"},
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def login_params(self, target: str, user: str) -> dict[str, str]:
        return {"iss": self.issuer, "login_hint": user, "target_link_uri": target, "client_id": CLIENT_ID}


def validations(platform: Platform, work: Path, count: int) -> float:
    """Validations per second of :class:`ToolLaunch` in this process."""
    from flask import Flask

    from lms_export.lti import catalog
    from lms_export.lti.app import BROWSER_COOKIE
    from lms_export.lti.config import ToolSettings
    from lms_export.lti.outbound import Outbound, OutboundPolicy
    from lms_export.lti.security import JwksCache, ToolLaunch
    from lms_export.lti.store import Store

    db = work / "validations.db"
    platform.register(db)
    store = Store(db)
    settings = ToolSettings("http://127.0.0.1:9")
    cards = catalog.load([DECK]).card_ids
    target = settings.card_url("gradient-descent")
    platform_id = store.platforms()[0].id
    launches = []
    for n in range(count + 1):
        state, nonce = f"state-{n}", f"nonce-{n}"
        # one browser per launch: the tool keeps only a browser's newest few states
        store.issue_state(state, nonce, f"browser-{n}", platform_id, target)
        launches.append((state, platform.id_token(nonce, target, f"user-{n}")))
    app = Flask("bench")
    jwks = JwksCache(Outbound(OutboundPolicy(insecure_local=True)))
    elapsed = 0.0
    for n, (state, token) in enumerate(launches):
        cookies = f"{BROWSER_COOKIE}=browser-{n}; lti1p3-{state}={state}"
        with app.test_request_context(
            "/", method="POST", data={"state": state, "id_token": token}, headers={"Cookie": cookies}
        ):
            start = time.perf_counter()
            ToolLaunch(store, settings, jwks, cards, f"browser-{n}").validate()
            if n:  # the first launch fetches the JWKS
                elapsed += time.perf_counter() - start
    assert jwks.fetches == 1
    return count / elapsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def end_to_end(platform: Platform, work: Path, seconds: float, clients: int) -> tuple[float, int]:
    """Launches per second through gunicorn with two workers; and how many failed."""
    db = work / "served.db"
    platform.register(db)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-c", "from lms_export.cli import main; main()", "serve", "--deck", str(DECK)]
    command += ["--db", str(db), "--port", str(port), "--workers", "2", "--insecure-local"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if requests.get(url + "/lti/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        target = url + "/lti/card/gradient-descent"
        done, failed, errors = [0], [0], []
        lock = threading.Lock()
        stop = time.perf_counter() + seconds

        def browser(n: int) -> None:
            session = requests.Session()
            while time.perf_counter() < stop:
                user = f"user-{n}"
                login = session.get(
                    url + "/lti/login", params=platform.login_params(target, user), allow_redirects=False
                )
                if login.status_code != 302:
                    with lock:
                        failed[0] += 1
                        errors.append(f"login {login.status_code}: {login.text[:300]}")
                    continue
                query = parse_qs(urlsplit(login.headers["Location"]).query)
                token = platform.id_token(query["nonce"][0], target, user)
                page = session.post(url + "/lti/launch", data={"id_token": token, "state": query["state"][0]})
                with lock:
                    if page.status_code == 200 and "Gradient descent" in page.text:
                        done[0] += 1
                    else:
                        failed[0] += 1
                        errors.append(f"launch {page.status_code}: {page.text[:300]}")

        start = time.perf_counter()
        threads = [threading.Thread(target=browser, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for error in sorted(set(errors))[:5]:
            print("  failed:", error, file=sys.stderr)
        return done[0] / (time.perf_counter() - start), failed[0]
    finally:
        server.terminate()
        server.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validations", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    platform = Platform()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        rate = validations(platform, work, args.validations)
        print(f"launch validations, one process, JWKS cached: {rate:,.0f}/s ({args.validations:,} launches)")
        rate, failed = end_to_end(platform, work, args.seconds, args.clients)
        print(
            f"launches end to end, gunicorn 2 workers, {args.clients} browsers on 127.0.0.1: {rate:,.0f}/s"
            f" ({failed} failed)"
        )


if __name__ == "__main__":
    main()
