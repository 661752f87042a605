"""The tool's database: one SQLite file that every worker process shares.

Everything that must outlive a request lives here, because the tool runs as
several gunicorn workers and a launch's login, its id_token and the learner's
submission may each reach a different one: platforms and deployments, the
tool's keys, OIDC states and used nonces, launches, attempts and the grade
outbox.

SQLite through the standard library, not an ORM: the tool runs on one host,
where a SQLite file in WAL mode is shared safely by every process, and each
statement here is one the tests run. Every write is a ``BEGIN IMMEDIATE``
transaction, so two workers never interleave a check and its update (a nonce
is used once even when two workers see it at the same instant), and a grade's
transactions are flushed to disk (``synchronous=FULL``), so a committed grade
survives a power cut, not only ``kill -9``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lms_export.errors import LmsExportError

#: An OIDC state is good for this long between login and launch: a platform answers a login in seconds.
STATE_SECONDS = 300
#: Live states one browser cookie may hold (a learner with several cards loading at once); its oldest go first.
STATES_PER_BROWSER = 20
#: Live states one client address may hold, its oldest going first: a classroom behind one NAT logs in
#: together, while one client looping over the login cannot pile up rows. Behind a reverse proxy every
#: client has the proxy's address, and this is the bound for all of them together.
STATES_PER_CLIENT = 1000
#: Live states in all; past this, logins are refused (429) until states expire, so the table stays small.
STATES_MAX = 50_000
#: A registration attempt holds its invitation this long at most: far longer than the exchange with the
#: platform takes, so only an attempt whose worker died lets the invitation go by running out.
INVITE_CLAIM_SECONDS = 600
#: Used nonces are kept this long; a replayed id_token is far past its exp by then.
NONCE_SECONDS = 2 * 86400

#: The first schema, as databases made before versioned migrations have it (``user_version`` 0).
SCHEMA_V0 = """
CREATE TABLE IF NOT EXISTS platforms (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    auth_login_url TEXT NOT NULL,
    auth_token_url TEXT NOT NULL,
    key_set_url TEXT NOT NULL,
    auth_audience TEXT,
    created_at REAL NOT NULL,
    UNIQUE (issuer, client_id)
);
CREATE TABLE IF NOT EXISTS deployments (
    platform_id INTEGER NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    PRIMARY KEY (platform_id, deployment_id)
);
CREATE TABLE IF NOT EXISTS keys (
    kid TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at REAL NOT NULL,
    retired_at REAL
);
CREATE TABLE IF NOT EXISTS states (
    state TEXT PRIMARY KEY,
    nonce TEXT NOT NULL,
    browser TEXT NOT NULL,
    platform_id INTEGER NOT NULL,
    target_link_uri TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    nonce TEXT PRIMARY KEY,
    used_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS launches (
    id TEXT PRIMARY KEY,
    platform_id INTEGER NOT NULL,
    deployment_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    browser TEXT NOT NULL,
    message_type TEXT NOT NULL,
    card_id TEXT,
    claims TEXT NOT NULL,
    created_at REAL NOT NULL,
    answered_at REAL
);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    launch_id TEXT NOT NULL,
    platform_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    card_id TEXT NOT NULL,
    answers TEXT NOT NULL,
    score REAL NOT NULL,
    maximum REAL NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    attempt_id INTEGER NOT NULL UNIQUE REFERENCES attempts(id),
    platform_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    grade_key TEXT NOT NULL,
    lineitem_url TEXT,
    lineitems_url TEXT,
    resource_link_id TEXT NOT NULL,
    card_id TEXT NOT NULL,
    label TEXT NOT NULL,
    score_given REAL NOT NULL,
    score_maximum REAL NOT NULL,
    timestamp INTEGER NOT NULL,
    scopes TEXT NOT NULL,
    submission_url TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    tries INTEGER NOT NULL DEFAULT 0,
    next_try_at REAL NOT NULL,
    lease_owner TEXT,
    lease_until REAL,
    last_error TEXT,
    created_at REAL NOT NULL,
    done_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_try_at);
CREATE INDEX IF NOT EXISTS outbox_grade ON outbox (platform_id, user_id, grade_key);
CREATE TABLE IF NOT EXISTS line_items (
    key TEXT PRIMARY KEY,
    url TEXT,
    lease_owner TEXT,
    lease_until REAL
);
CREATE TABLE IF NOT EXISTS invites (
    token_hash TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
);
"""

#: One signing key pair per registration (platform_id NULL: the keys every registration shared before,
#: still published at /lti/jwks for the registrations made then, which keep using them);
#: each registration's endpoint hosts and deployment policy; line items per registration.
SCHEMA_V1 = """
ALTER TABLE platforms ADD COLUMN key_set_id TEXT;
ALTER TABLE platforms ADD COLUMN hosts TEXT NOT NULL DEFAULT '[]';
ALTER TABLE platforms ADD COLUMN deployments_policy TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE platforms ADD COLUMN shared_jwks INTEGER NOT NULL DEFAULT 0;
UPDATE platforms SET shared_jwks = 1, key_set_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX platforms_key_set ON platforms (key_set_id);
CREATE TABLE signing_keys (
    id INTEGER PRIMARY KEY,
    platform_id INTEGER REFERENCES platforms(id) ON DELETE CASCADE,
    kid TEXT NOT NULL,
    private_pem TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at REAL NOT NULL,
    retired_at REAL,
    UNIQUE (platform_id, kid)
);
INSERT INTO signing_keys (platform_id, kid, private_pem, public_jwk, created_at, retired_at)
    SELECT NULL, kid, private_pem, public_jwk, created_at, retired_at FROM keys ORDER BY created_at, rowid;
DROP TABLE keys;
DROP TABLE line_items;
CREATE TABLE line_items (
    platform_id INTEGER NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    url TEXT,
    lease_owner TEXT,
    lease_until REAL,
    PRIMARY KEY (platform_id, key)
);
CREATE INDEX attempts_learner ON attempts (platform_id, user_id, card_id);
"""

#: OIDC states remember the client address that asked for them, so each address holds a bounded number;
#: an invitation is claimed by one registration attempt at a time.
SCHEMA_V2 = """
ALTER TABLE states ADD COLUMN client TEXT NOT NULL DEFAULT '';
CREATE INDEX states_browser ON states (browser, created_at);
CREATE INDEX states_client ON states (client, created_at);
CREATE INDEX states_created ON states (created_at);
ALTER TABLE invites ADD COLUMN claimed_until REAL;
"""

#: Applied in order; ``PRAGMA user_version`` counts those a database has.
MIGRATIONS = (SCHEMA_V0, SCHEMA_V1, SCHEMA_V2)

_LEARNERS_ATTEMPTS = "SELECT COUNT(*) FROM attempts WHERE platform_id = ? AND user_id = ? AND card_id = ?"

#: Outbox states: waiting (or being delivered under a lease), done, or refused by the platform.
PENDING, DELIVERED, SUPERSEDED, FAILED = "pending", "delivered", "superseded", "failed"


def digest(secret: str) -> str:
    """What the database keeps of a browser cookie or an invitation: never the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


def db_path(url: str | Path) -> Path:
    """The file a ``--db`` value names: ``sqlite:///relative.db``, ``sqlite:////abs.db`` or a plain path."""
    text = str(url)
    if "://" not in text:
        return Path(text)
    scheme, _, rest = text.partition("://")
    if scheme != "sqlite" or not rest.startswith("/") or len(rest) < 2:
        raise LmsExportError(f"--db {text}: only SQLite is supported, as sqlite:///FILE or a file path")
    return Path(rest[1:])


def host_of(url: str) -> str:
    """``host:port`` of a URL, the port written out (443 for https), as registrations compare hosts."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ""
    return f"{(parts.hostname or '').lower()}:{port}"


def new_key_set_id() -> str:
    """What names a registration's key set URL: unguessable, so only its platform knows it."""
    return secrets.token_urlsafe(16)


def allowed_host(value: str) -> str:
    """An operator's ``--allow-host``: a URL, ``host:port`` or a host (port 443)."""
    value = value.strip().lower()
    if "://" in value:
        return host_of(value)
    return value if ":" in value.strip("[]").rpartition("]")[2] else f"{value}:443"


@dataclass(frozen=True)
class Platform:
    """A registration: one (issuer, client id), its endpoints, and the hosts the tool may call for it.

    Only URLs on the issuer's own host, or on a host the operator named for
    this registration, are ever called with its credentials: a registration
    can never point the tool at another platform's token or grade service.
    """

    id: int
    name: str
    kind: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    auth_audience: str | None
    #: Names the registration's own key set URL (``/lti/jwks/<key_set_id>``).
    key_set_id: str
    #: Hosts the operator allowed beyond the issuer's (``--allow-host``).
    hosts: tuple[str, ...] = ()
    #: ``auto``: a new deployment id is recorded on its first valid launch; ``listed``: only those added.
    deployments_policy: str = "auto"
    #: Made before per-registration keys: it also signs with, and its LMS reads, the shared /lti/jwks.
    shared_jwks: bool = False

    def origins_allowed(self) -> list[str]:
        """The operator's extra hosts as origins (in the issuer's scheme): a self-hosted Canvas frames from there."""
        scheme = urlsplit(self.issuer).scheme
        return [f"{scheme}://{host}" for host in self.hosts]

    def allows(self, url: object) -> bool:
        """Whether the tool may call ``url`` for this registration."""
        if not isinstance(url, str) or "://" not in url:
            return False
        host = host_of(url)
        return bool(host) and (host == host_of(self.issuer) or host in self.hosts)


@dataclass(frozen=True)
class ToolKey:
    """A signing key pair of the tool: a registration's own (``platform_id``) or the shared legacy set (None)."""

    kid: str
    private_pem: str
    public_jwk: dict[str, Any]
    created_at: float
    retired_at: float | None
    platform_id: int | None = None


@dataclass(frozen=True)
class IssuedState:
    """What the login recorded for a state: the launch must match all of it."""

    nonce: str
    browser: str
    platform_id: int
    target_link_uri: str
    created_at: float


@dataclass(frozen=True)
class Launch:
    id: str
    platform_id: int
    deployment_id: str
    user_id: str
    browser: str
    message_type: str
    card_id: str | None
    claims: dict[str, Any]
    created_at: float
    answered_at: float | None


@dataclass(frozen=True)
class GradeTarget:
    """Where a launch's grade goes, read from its AGS claim."""

    lineitem_url: str | None
    lineitems_url: str | None
    resource_link_id: str
    card_id: str
    label: str
    score_maximum: float
    scopes: tuple[str, ...]
    submission_url: str | None = None

    @property
    def key(self) -> str:
        """One line item: its URL, or the container, link and card it will be found or created by."""
        if self.lineitem_url:
            return self.lineitem_url
        return json.dumps([self.lineitems_url, self.resource_link_id, self.card_id])


@dataclass(frozen=True)
class Delivery:
    """One score in the outbox."""

    id: int
    attempt_id: int
    platform_id: int
    user_id: str
    grade_key: str
    lineitem_url: str | None
    lineitems_url: str | None
    resource_link_id: str
    card_id: str
    label: str
    score_given: float
    score_maximum: float
    timestamp: int
    scopes: tuple[str, ...]
    submission_url: str | None
    status: str
    tries: int
    next_try_at: float
    last_error: str | None
    created_at: float
    done_at: float | None


def _delivery(row: sqlite3.Row) -> Delivery:
    data = {name: row[name] for name in Delivery.__dataclass_fields__}
    data["scopes"] = tuple(json.loads(row["scopes"]))
    return Delivery(**data)


def _platform(row: sqlite3.Row) -> Platform:
    data = {name: row[name] for name in Platform.__dataclass_fields__}
    data["hosts"] = tuple(json.loads(row["hosts"]))
    data["shared_jwks"] = bool(row["shared_jwks"])
    return Platform(**data)


def _key(row: sqlite3.Row) -> ToolKey:
    return ToolKey(
        row["kid"], row["private_pem"], json.loads(row["public_jwk"]), row["created_at"], row["retired_at"],
        row["platform_id"],
    )  # fmt: skip


def _launch(row: sqlite3.Row) -> Launch:
    data = {name: row[name] for name in Launch.__dataclass_fields__}
    data["claims"] = json.loads(row["claims"])
    return Launch(**data)


class AttemptLimitReached(LmsExportError):
    """A submission refused because its launch has used every attempt the card allows."""


class Store:
    """The database, with one connection per thread and per process (a fork never shares one)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()
        self._migrate()

    def _migrate(self) -> None:
        """Bring the database to the newest schema, in place, once (the write lock keeps workers apart)."""
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise LmsExportError(f"{self.path}: made by a newer lms-export (schema {version})")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    def _db(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            local.db, local.pid, local.sync = db, os.getpid(), None
        return local.db

    def close(self) -> None:
        """Close this thread's connection (the others close with their threads)."""
        if getattr(self._local, "pid", None) == os.getpid():
            self._local.db.close()
        self._local = threading.local()

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the database's write lock from its first statement.

        A durable one is on disk when it returns, power cut included; the
        others (states, nonces, launches, leases: worthless after a crash)
        survive a killed process but skip the disk flush, which is most of
        a launch's time.
        """
        db = self._db()
        sync = "FULL" if durable else "NORMAL"
        if self._local.sync != sync:
            db.execute(f"PRAGMA synchronous={sync}")
            self._local.sync = sync
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _read(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self._db().execute(sql, args).fetchall()

    # -- platforms and deployments ------------------------------------------

    def add_platform(
        self,
        *,
        name: str,
        kind: str,
        issuer: str,
        client_id: str,
        auth_login_url: str,
        auth_token_url: str,
        key_set_url: str,
        auth_audience: str | None = None,
        deployments: Iterable[str] = (),
        hosts: Iterable[str] = (),
        deployments_policy: str = "auto",
        key: tuple[str, str, dict[str, Any]] | None = None,
        key_set_id: str | None = None,
    ) -> Platform:
        """Register a platform with its own signing key ``(kid, private_pem, public_jwk)``, in one transaction.

        Every endpoint must be on the issuer's host or on one of ``hosts``,
        the operator's explicit exceptions.
        """
        platform = Platform(
            0, name, kind, issuer, client_id, auth_login_url, auth_token_url, key_set_url, auth_audience, "",
            tuple(sorted({allowed_host(h) for h in hosts})), deployments_policy,
        )  # fmt: skip
        if deployments_policy not in ("auto", "listed"):
            raise LmsExportError(f"deployments policy {deployments_policy!r}: auto or listed")
        endpoints = {"login": auth_login_url, "token": auth_token_url, "key set": key_set_url}
        if auth_audience and "://" in auth_audience:
            endpoints["token audience"] = auth_audience
        for what, url in endpoints.items():
            if not platform.allows(url):
                raise LmsExportError(
                    f"the {what} URL {url} is not on the issuer's host ({host_of(issuer)});"
                    f" if it really is this platform's, allow its host: --allow-host {host_of(url)}"
                )
        try:
            with self.transaction() as db:
                cursor = db.execute(
                    "INSERT INTO platforms (name, kind, issuer, client_id, auth_login_url, auth_token_url,"
                    " key_set_url, auth_audience, created_at, key_set_id, hosts, deployments_policy)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        kind,
                        issuer,
                        client_id,
                        auth_login_url,
                        auth_token_url,
                        key_set_url,
                        auth_audience,
                        time.time(),
                        key_set_id or new_key_set_id(),
                        json.dumps(list(platform.hosts)),
                        deployments_policy,
                    ),
                )
                db.executemany(
                    "INSERT OR IGNORE INTO deployments VALUES (?, ?)",
                    [(cursor.lastrowid, d) for d in deployments],
                )
                if key is not None:
                    self._insert_key(db, cursor.lastrowid, *key)
        except sqlite3.IntegrityError:
            raise LmsExportError(
                f"a platform named {name!r}, or with issuer {issuer} and client id {client_id}, is already registered"
            ) from None
        added = self.platform_named(name)
        assert added is not None
        return added

    def update_platform(
        self,
        name: str,
        *,
        client_id: str | None = None,
        hosts: Iterable[str] | None = None,
        deployments_policy: str | None = None,
    ) -> Platform:
        """Change what an operator may change after registering: client id, allowed hosts, deployments policy."""
        if deployments_policy not in (None, "auto", "listed"):
            raise LmsExportError(f"deployments policy {deployments_policy!r}: auto or listed")
        try:
            with self.transaction() as db:
                self._update_platform(db, name, client_id, hosts, deployments_policy)
        except sqlite3.IntegrityError:
            raise LmsExportError(f"another platform has the same issuer and client id {client_id}") from None
        updated = self.platform_named(name)
        if updated is None:
            raise LmsExportError(f"no platform named {name!r}")
        return updated

    @staticmethod
    def _update_platform(
        db: sqlite3.Connection,
        name: str,
        client_id: str | None,
        hosts: Iterable[str] | None,
        deployments_policy: str | None,
    ) -> None:
        if client_id is not None:
            db.execute("UPDATE platforms SET client_id = ? WHERE name = ?", (client_id, name))
        if hosts is not None:
            listed = sorted({allowed_host(h) for h in hosts})
            db.execute("UPDATE platforms SET hosts = ? WHERE name = ?", (json.dumps(listed), name))
        if deployments_policy is not None:
            db.execute("UPDATE platforms SET deployments_policy = ? WHERE name = ?", (deployments_policy, name))

    def platform_by_key_set(self, key_set_id: str) -> Platform | None:
        rows = self._read("SELECT * FROM platforms WHERE key_set_id = ?", key_set_id)
        return _platform(rows[0]) if rows else None

    def platforms(self) -> list[Platform]:
        return [_platform(r) for r in self._read("SELECT * FROM platforms ORDER BY name")]

    def platform(self, platform_id: int) -> Platform | None:
        rows = self._read("SELECT * FROM platforms WHERE id = ?", platform_id)
        return _platform(rows[0]) if rows else None

    def platform_named(self, name: str) -> Platform | None:
        rows = self._read("SELECT * FROM platforms WHERE name = ?", name)
        return _platform(rows[0]) if rows else None

    def find_platform(self, issuer: str, client_id: str | None) -> Platform | None:
        """The registration for an issuer and client id; without a client id, the issuer's only one."""
        if client_id is None:
            rows = self._read("SELECT * FROM platforms WHERE issuer = ?", issuer)
            return _platform(rows[0]) if len(rows) == 1 else None
        rows = self._read("SELECT * FROM platforms WHERE issuer = ? AND client_id = ?", issuer, client_id)
        return _platform(rows[0]) if rows else None

    def remove_platform(self, name: str, force: bool = False) -> None:
        """Forget a platform; refused while grades for it wait in the outbox, unless ``force``."""
        with self.transaction() as db:
            row = db.execute("SELECT id FROM platforms WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise LmsExportError(f"no platform named {name!r}")
            waiting = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE platform_id = ? AND status IN (?, ?)", (row["id"], PENDING, FAILED)
            ).fetchone()[0]
            if waiting and not force:
                raise LmsExportError(
                    f"{name!r} has {waiting} grade(s) not delivered (lms-export lti grades); --force drops them"
                )
            db.execute("DELETE FROM outbox WHERE platform_id = ? AND status IN (?, ?)", (row["id"], PENDING, FAILED))
            db.execute("DELETE FROM platforms WHERE id = ?", (row["id"],))

    def add_deployment(self, platform_id: int, deployment_id: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO deployments VALUES (?, ?)", (platform_id, deployment_id))

    def deployments(self, platform_id: int) -> list[str]:
        rows = self._read("SELECT deployment_id FROM deployments WHERE platform_id = ? ORDER BY 1", platform_id)
        return [r[0] for r in rows]

    def has_deployment(self, platform_id: int, deployment_id: str) -> bool:
        rows = self._read(
            "SELECT 1 FROM deployments WHERE platform_id = ? AND deployment_id = ?", platform_id, deployment_id
        )
        return bool(rows)

    # -- the tool's keys ----------------------------------------------------

    @staticmethod
    def _insert_key(
        db: sqlite3.Connection, platform_id: int | None, kid: str, private_pem: str, public_jwk: dict[str, Any]
    ) -> None:
        db.execute(
            "INSERT INTO signing_keys (platform_id, kid, private_pem, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)",
            (platform_id, kid, private_pem, json.dumps(public_jwk), time.time()),
        )

    def add_key(self, kid: str, private_pem: str, public_jwk: dict[str, Any], platform_id: int | None) -> None:
        """A new signing key for a registration (None: the shared set of registrations made before per-registration keys)."""
        with self.transaction() as db:
            self._insert_key(db, platform_id, kid, private_pem, public_jwk)

    def keys_of(self, platform: Platform | None, include_retired: bool = False) -> list[ToolKey]:
        """A registration's keys, newest first: the first is the one the tool signs with for it.

        A registration made before per-registration keys also has the shared
        ones (its LMS reads them at /lti/jwks); None asks for the shared set.
        """
        if platform is None:
            where, args = "platform_id IS NULL", []
        elif platform.shared_jwks:
            where, args = "(platform_id = ? OR platform_id IS NULL)", [platform.id]
        else:
            where, args = "platform_id = ?", [platform.id]
        if not include_retired:
            where += " AND retired_at IS NULL"
        rows = self._read(f"SELECT * FROM signing_keys WHERE {where} ORDER BY created_at DESC, id DESC", *args)
        return [_key(r) for r in rows]

    def shared_jwks_keys(self) -> list[ToolKey]:
        """What /lti/jwks publishes: the keys of registrations made before per-registration keys, and no other."""
        rows = self._read(
            "SELECT * FROM signing_keys WHERE retired_at IS NULL AND (platform_id IS NULL"
            " OR platform_id IN (SELECT id FROM platforms WHERE shared_jwks = 1)) ORDER BY created_at DESC, id DESC"
        )
        return [_key(r) for r in rows]

    def retire_key(self, kid: str, platform: Platform | None) -> None:
        """Take a key out of a registration's key set (None: out of the shared set); never the signing one."""
        keys = self.keys_of(platform)
        if keys and keys[0].kid == kid:
            raise LmsExportError(f"{kid} is the key the tool signs with; rotate first, then retire it")
        owner = platform.id if platform is not None else None
        with self.transaction() as db:
            updated = db.execute(
                "UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND platform_id IS ? AND retired_at IS NULL",
                (time.time(), kid, owner),
            ).rowcount
        if not updated:
            raise LmsExportError(f"no key {kid} in use")

    # -- OIDC states and nonces ---------------------------------------------

    def issue_state(
        self,
        state: str,
        nonce: str,
        browser: str,
        platform_id: int,
        target_link_uri: str,
        *,
        client: str = "",
        now: float | None = None,
    ) -> bool:
        """Record a login's state for its launch; False, recording nothing, when :data:`STATES_MAX` are live.

        Anyone may start a login, so the table is kept bounded here, under
        the write lock: expired states go, and a browser cookie or a client
        address (``client``; "" for none) over its share loses its oldest
        states, which only that browser or address was waiting for.
        """
        now = time.time() if now is None else now
        with self.transaction(durable=False) as db:
            db.execute("DELETE FROM states WHERE created_at < ?", (now - STATE_SECONDS,))
            shares = [("browser", digest(browser), STATES_PER_BROWSER)]
            if client:
                shares.append(("client", client, STATES_PER_CLIENT))
            for column, value, share in shares:
                db.execute(
                    f"DELETE FROM states WHERE state IN (SELECT state FROM states WHERE {column} = ?"
                    " ORDER BY created_at DESC LIMIT -1 OFFSET ?)",
                    (value, share - 1),
                )
            if db.execute("SELECT COUNT(*) FROM states").fetchone()[0] >= STATES_MAX:
                return False
            db.execute(
                "INSERT INTO states (state, nonce, browser, platform_id, target_link_uri, created_at, client)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (state, nonce, digest(browser), platform_id, target_link_uri, now, client),
            )
        return True

    def take_state(self, state: str, now: float | None = None) -> IssuedState | None:
        """The state's record, deleted as it is read: a state works once, and only while fresh."""
        now = time.time() if now is None else now
        with self.transaction(durable=False) as db:
            row = db.execute("DELETE FROM states WHERE state = ? RETURNING *", (state,)).fetchone()
        if row is None or now - row["created_at"] > STATE_SECONDS:
            return None
        return IssuedState(row["nonce"], row["browser"], row["platform_id"], row["target_link_uri"], row["created_at"])

    def use_nonce(self, nonce: str, now: float | None = None) -> bool:
        """Record a nonce as used; False when some worker already did."""
        try:
            with self.transaction(durable=False) as db:
                db.execute("INSERT INTO nonces VALUES (?, ?)", (nonce, time.time() if now is None else now))
        except sqlite3.IntegrityError:
            return False
        return True

    # -- launches -----------------------------------------------------------

    def save_launch(
        self,
        *,
        platform_id: int,
        deployment_id: str,
        user_id: str,
        browser: str,
        message_type: str,
        card_id: str | None,
        claims: dict[str, Any],
    ) -> str:
        launch_id = secrets.token_urlsafe(24)
        with self.transaction(durable=False) as db:
            db.execute(
                "INSERT INTO launches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    launch_id,
                    platform_id,
                    deployment_id,
                    user_id,
                    digest(browser),
                    message_type,
                    card_id,
                    json.dumps(claims),
                    time.time(),
                ),
            )
        return launch_id

    def launch(self, launch_id: str) -> Launch | None:
        rows = self._read("SELECT * FROM launches WHERE id = ?", launch_id)
        return _launch(rows[0]) if rows else None

    def answer_launch(self, launch_id: str) -> bool:
        """Mark a deep linking launch answered; False when it already was (a form posted twice)."""
        with self.transaction() as db:
            return bool(
                db.execute(
                    "UPDATE launches SET answered_at = ? WHERE id = ? AND answered_at IS NULL", (time.time(), launch_id)
                ).rowcount
            )

    # -- attempts and the outbox --------------------------------------------

    def record_attempt(
        self,
        launch: Launch,
        answers: dict[str, Any],
        score: float,
        maximum: float,
        grade: GradeTarget | None,
        now: float | None = None,
        max_attempts: int | None = None,
    ) -> tuple[int, Delivery | None]:
        """Store an attempt and, in the same transaction, its score in the outbox.

        Once this returns, the grade is on disk: the learner may be told it
        was submitted. The score's timestamp is at least one whole second
        after the previous one for the same learner and line item, as
        Moodle refuses two in the same second. With ``max_attempts``, a
        learner who has that many attempts at the card already (from this
        launch or any other: launching again gives no fresh tries) raises
        :class:`AttemptLimitReached` and stores nothing: counted under the
        transaction's write lock, so parallel submissions cannot all pass.
        """
        now = time.time() if now is None else now
        with self.transaction() as db:
            if max_attempts is not None:
                learner = (launch.platform_id, launch.user_id, launch.card_id)
                used = db.execute(_LEARNERS_ATTEMPTS, learner).fetchone()[0]
                if used >= max_attempts:
                    raise AttemptLimitReached(f"{launch.user_id} has used the {max_attempts} attempt(s) at the card")
            attempt_id = db.execute(
                "INSERT INTO attempts (launch_id, platform_id, user_id, card_id, answers, score, maximum, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    launch.id,
                    launch.platform_id,
                    launch.user_id,
                    launch.card_id,
                    json.dumps(answers),
                    score,
                    maximum,
                    now,
                ),
            ).lastrowid
            assert attempt_id is not None
            if grade is None:
                return attempt_id, None
            previous = db.execute(
                "SELECT MAX(timestamp) FROM outbox WHERE platform_id = ? AND user_id = ? AND grade_key = ?",
                (launch.platform_id, launch.user_id, grade.key),
            ).fetchone()[0]
            timestamp = max(int(now), (previous or 0) + 1)
            row = db.execute(
                "INSERT INTO outbox (attempt_id, platform_id, user_id, grade_key, lineitem_url, lineitems_url,"
                " resource_link_id, card_id, label, score_given, score_maximum, timestamp, scopes, submission_url,"
                " next_try_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    attempt_id,
                    launch.platform_id,
                    launch.user_id,
                    grade.key,
                    grade.lineitem_url,
                    grade.lineitems_url,
                    grade.resource_link_id,
                    grade.card_id,
                    grade.label,
                    score,
                    grade.score_maximum,
                    timestamp,
                    json.dumps(list(grade.scopes)),
                    grade.submission_url,
                    now,
                    now,
                ),
            ).fetchone()
        return attempt_id, _delivery(row)

    def claim_due(self, owner: str, lease: float, limit: int = 10, now: float | None = None) -> list[Delivery]:
        """Lease scores that are due, so no other worker delivers them meanwhile.

        Only the oldest waiting score of each learner and line item is due:
        scores reach the platform in the order they were made.
        """
        now = time.time() if now is None else now
        with self.transaction(durable=False) as db:
            rows = db.execute(
                "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id IN ("
                " SELECT o.id FROM outbox o WHERE o.status = ? AND o.next_try_at <= ?"
                " AND (o.lease_until IS NULL OR o.lease_until < ?)"
                " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status = ? AND e.platform_id = o.platform_id"
                "  AND e.user_id = o.user_id AND e.grade_key = o.grade_key AND e.id < o.id)"
                " ORDER BY o.next_try_at, o.id LIMIT ?) RETURNING *",
                (owner, now + lease, PENDING, now, now, PENDING, limit),
            ).fetchall()
        return sorted((_delivery(r) for r in rows), key=lambda d: d.id)

    def finish(self, delivery_id: int, owner: str, status: str, note: str | None = None) -> bool:
        """Record a delivery's end under the worker's lease; False when the lease was lost."""
        with self.transaction() as db:
            return bool(
                db.execute(
                    "UPDATE outbox SET status = ?, last_error = ?, tries = tries + 1, done_at = ?,"
                    " lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
                    (status, note, time.time(), delivery_id, owner),
                ).rowcount
            )

    def retry_later(self, delivery_id: int, owner: str, error: str, delay: float) -> bool:
        with self.transaction() as db:
            return bool(
                db.execute(
                    "UPDATE outbox SET tries = tries + 1, last_error = ?, next_try_at = ?,"
                    " lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
                    (error, time.time() + delay, delivery_id, owner),
                ).rowcount
            )

    def deliveries(self, statuses: Iterable[str] = (PENDING, FAILED), platform_id: int | None = None) -> list[Delivery]:
        statuses = list(statuses)
        sql = f"SELECT * FROM outbox WHERE status IN ({', '.join('?' * len(statuses))})"
        args: list[Any] = list(statuses)
        if platform_id is not None:
            sql += " AND platform_id = ?"
            args.append(platform_id)
        return [_delivery(r) for r in self._read(sql + " ORDER BY id", *args)]

    def delivery(self, delivery_id: int) -> Delivery | None:
        rows = self._read("SELECT * FROM outbox WHERE id = ?", delivery_id)
        return _delivery(rows[0]) if rows else None

    def retry_now(self, ids: Iterable[int] | None = None) -> int:
        """Put failed scores back in the queue and make waiting ones due now; how many."""
        sql = "UPDATE outbox SET status = ?, next_try_at = ? WHERE status IN (?, ?)"
        args: list[Any] = [PENDING, time.time(), PENDING, FAILED]
        if ids is not None:
            id_list = list(ids)
            sql += f" AND id IN ({', '.join('?' * len(id_list))})"
            args.extend(id_list)
        with self.transaction() as db:
            return db.execute(sql, args).rowcount

    def release_leases(self, owners: Iterable[str]) -> int:
        """Free the leases of workers known to be dead, so their scores are delivered now."""
        owners = list(owners)
        if not owners:
            return 0
        marks = ", ".join("?" * len(owners))
        with self.transaction() as db:
            db.execute(
                f"UPDATE line_items SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IN ({marks})", owners
            )
            return db.execute(
                f"UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IN ({marks})", owners
            ).rowcount

    def lease_owners(self) -> list[str]:
        rows = self._read(
            "SELECT lease_owner FROM outbox WHERE lease_owner IS NOT NULL"
            " UNION SELECT lease_owner FROM line_items WHERE lease_owner IS NOT NULL"
        )
        return [r[0] for r in rows]

    def attempts(self, user_id: str | None = None) -> list[sqlite3.Row]:
        if user_id is None:
            return self._read("SELECT * FROM attempts ORDER BY id")
        return self._read("SELECT * FROM attempts WHERE user_id = ? ORDER BY id", user_id)

    def attempt_count(self, launch: Launch) -> int:
        """How many attempts the launch's learner has made at its card, from any launch: what ``max_attempts`` counts."""
        return self._read(_LEARNERS_ATTEMPTS, launch.platform_id, launch.user_id, launch.card_id)[0][0]

    # -- line items found or created by the tool ----------------------------

    def line_item_url(self, platform_id: int, key: str) -> str | None:
        rows = self._read("SELECT url FROM line_items WHERE platform_id = ? AND key = ?", platform_id, key)
        return rows[0]["url"] if rows else None

    def claim_line_item(self, platform_id: int, key: str, owner: str, lease: float) -> bool:
        """The right to find or create one line item of a platform, so two workers never create it twice."""
        now = time.time()
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO line_items (platform_id, key) VALUES (?, ?)", (platform_id, key))
            return bool(
                db.execute(
                    "UPDATE line_items SET lease_owner = ?, lease_until = ? WHERE platform_id = ? AND key = ?"
                    " AND url IS NULL AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)",
                    (owner, now + lease, platform_id, key, now, owner),
                ).rowcount
            )

    def save_line_item(self, platform_id: int, key: str, url: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE line_items SET url = ?, lease_owner = NULL, lease_until = NULL WHERE platform_id = ? AND key = ?",
                (url, platform_id, key),
            )

    # -- dynamic registration invitations -----------------------------------

    def create_invite(self, seconds: float) -> str:
        """A new invitation, good for ``seconds``; only its digest is stored, the token is the operator's."""
        token = secrets.token_urlsafe(24)
        now = time.time()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO invites (token_hash, created_at, expires_at) VALUES (?, ?, ?)",
                (digest(token), now, now + seconds),
            )
        return token

    def invite_valid(self, token: str) -> bool:
        """Known, not used and not expired (a registration may be in progress with it)."""
        rows = self._read(
            "SELECT 1 FROM invites WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
            digest(token),
            time.time(),
        )
        return bool(rows)

    def claim_invite(self, token: str, now: float | None = None) -> bool:
        """Take a valid invitation for one registration attempt; False when it is not valid or already taken.

        One conditional UPDATE under the write lock: of any number of
        parallel attempts, across workers, exactly one gets the claim. It
        lasts :data:`INVITE_CLAIM_SECONDS`, unless given back or spent first.
        """
        now = time.time() if now is None else now
        with self.transaction() as db:
            return bool(
                db.execute(
                    "UPDATE invites SET claimed_until = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?"
                    " AND (claimed_until IS NULL OR claimed_until < ?)",
                    (now + INVITE_CLAIM_SECONDS, digest(token), now, now),
                ).rowcount
            )

    def release_invite(self, token: str) -> None:
        """Give an invitation back after a failed attempt: the administrator's URL still works."""
        with self.transaction() as db:
            db.execute(
                "UPDATE invites SET claimed_until = NULL WHERE token_hash = ? AND used_at IS NULL", (digest(token),)
            )

    def use_invite(self, token: str) -> bool:
        """Spend an invitation for good; False when it already was (by an attempt that outran this one's claim)."""
        with self.transaction() as db:
            return bool(
                db.execute(
                    "UPDATE invites SET used_at = ?, claimed_until = NULL WHERE token_hash = ? AND used_at IS NULL",
                    (time.time(), digest(token)),
                ).rowcount
            )

    # -- housekeeping -------------------------------------------------------

    def purge(self, now: float | None = None) -> None:
        """Drop states and nonces too old to matter."""
        now = time.time() if now is None else now
        with self.transaction(durable=False) as db:
            db.execute("DELETE FROM states WHERE created_at < ?", (now - STATE_SECONDS,))
            db.execute("DELETE FROM nonces WHERE used_at < ?", (now - NONCE_SECONDS,))
