"""Signed, expiring storage URLs: an HMAC-SHA256 over the path and the expiry time.

The secret belongs to one simulator instance, so only that instance's storage origin accepts
its URLs, and no API key is needed (or wanted) to download a clip.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode


class UrlSigner:
    """Issues and checks ``?expires=<unix seconds>&signature=<hex>`` query strings."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def signature(self, path: str, expires: int) -> str:
        """The hex HMAC of ``path`` and ``expires``."""
        message = f"{path}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, base_url: str, path: str, expires: int) -> str:
        """A full signed URL for ``path`` on ``base_url``."""
        query = urlencode({"expires": expires, "signature": self.signature(path, expires)})
        return f"{base_url}{path}?{query}"

    def refusal(self, path: str, query: Mapping[str, str], now: float) -> str | None:
        """Why a request for ``path`` with ``query`` must be refused, or ``None`` if it may pass."""
        expires_text = query.get("expires", "")
        signature = query.get("signature", "")
        if not expires_text.isdigit() or not signature:
            return "Request is missing a signature"
        if not hmac.compare_digest(signature, self.signature(path, int(expires_text))):
            return "The request signature we calculated does not match the signature you provided"
        if int(expires_text) <= now:
            return "Request has expired"
        return None
