"""Bearer secrets that the portal keeps only as a digest: API tokens and monitoring intake tokens.

The tokens are 256 random bits, so nobody can guess one or reverse its digest by brute force: a plain SHA-256
(no salt, no slow hash) is enough, and it lets a request find its token with one indexed lookup. Slow, salted
hashes are for passwords, which people choose and which are guessable.
"""

import hashlib
import secrets

TOKEN_HASH_LENGTH = 64  # hexadecimal SHA-256


def token_generate() -> str:
    """A new URL-safe token of 256 random bits (43 characters)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
