"""The tool's RSA keys: one key set per registration, the newest signs, every key not retired is published.

Each registration has key pairs of its own, published at a key set URL
given only to that platform (``/lti/jwks/<key_set_id>``). So a client
assertion the tool signs for one registration never verifies at another
platform: whoever registers a rogue "platform" gets assertions signed with
keys no other platform trusts. Registrations made before this shared one key
set at ``/lti/jwks``, which stays published for them.

Platforms fetch a JWKS when they check a client assertion or a deep linking
response, and some cache it for hours. A rotated key therefore stays
published until an administrator retires it, so messages signed just before
a rotation still verify.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

from lms_export.lti.store import Platform, Store, ToolKey

KEY_BITS = 2048


def generate() -> tuple[str, str, dict[str, Any]]:
    """A fresh RSA key pair: its kid, private PEM and public JWK."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwk = JWK.from_pem(pem.encode())
    kid = jwk.thumbprint()
    public = json.loads(jwk.export_public())
    public.update(kid=kid, alg="RS256", use="sig")
    return kid, pem, public


def rotate(store: Store, platform: Platform | None) -> ToolKey:
    """A fresh key for a registration (None: the shared set), stored; from now on it signs."""
    store.add_key(*generate(), platform_id=platform.id if platform is not None else None)
    return store.keys_of(platform)[0]


def signing_key(store: Store, platform: Platform) -> ToolKey:
    """The key the tool signs with for this registration, made on first use."""
    keys = store.keys_of(platform)
    return keys[0] if keys else rotate(store, platform)


def jwks(keys: list[ToolKey]) -> dict[str, Any]:
    """Public keys as platforms fetch them."""
    return {"keys": [key.public_jwk for key in keys]}


def public_pem(key: ToolKey) -> str:
    """The public half in PEM, as pylti1p3's registration wants it."""
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
