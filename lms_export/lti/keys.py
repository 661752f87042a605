"""The tool's RSA keys: the newest signs, every key not retired is published.

Platforms fetch the tool's JWKS when they check a client assertion or a deep
linking response, and some cache it for hours. A rotated key therefore stays
in the JWKS until an administrator retires it, so messages signed just before
a rotation still verify.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

from lms_export.lti.store import Store, ToolKey

KEY_BITS = 2048


def new_key(store: Store) -> ToolKey:
    """A fresh RSA key, stored; from now on the tool signs with it."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwk = JWK.from_pem(pem.encode())
    kid = jwk.thumbprint()
    public = json.loads(jwk.export_public())
    public.update(kid=kid, alg="RS256", use="sig")
    store.add_key(kid, pem, public)
    return store.tool_keys()[0]


def active_key(store: Store) -> ToolKey:
    """The key the tool signs with, made on first use."""
    keys = store.tool_keys()
    return keys[0] if keys else new_key(store)


def jwks(store: Store) -> dict[str, Any]:
    """The tool's public keys, as platforms fetch them."""
    active_key(store)
    return {"keys": [key.public_jwk for key in store.tool_keys()]}


def public_pem(key: ToolKey) -> str:
    """The public half in PEM, as pylti1p3's registration wants it."""
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
