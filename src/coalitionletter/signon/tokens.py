"""Personal sign-on links: 256 random bits, of which only the SHA-256 is ever kept.

The raw token exists only in the email being sent and in the recipient's link.
A database dump, a log line or an error page never holds it, so neither a
leaked backup nor a curious administrator can sign for an organisation.
"""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 32  # 256 bits
# token_urlsafe(32) gives 43 characters of the URL-safe base64 alphabet.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    """A fresh random token for a personal link."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a token is looked up."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    """True when a string could be a token we issued (checked before any lookup)."""
    return bool(_TOKEN_SHAPE.fullmatch(token))


def link(base_url: str, token: str) -> str:
    """The personal sign-on URL for a token, under the configured base URL only."""
    return f"{base_url.rstrip('/')}/s/{token}"
