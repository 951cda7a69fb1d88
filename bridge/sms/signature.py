"""X-Twilio-Signature checks against the public URL Twilio was configured with.

Behind a proxy the request URL the server sees differs from the one Twilio signed,
so the URL is rebuilt from BRIDGE_PUBLIC_URL plus the path and raw query.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping

from twilio.request_validator import RequestValidator, get_signature_algorithm

# Twilio's algorithm names (any case, as its validator takes them) → hashlib's.
_DIGESTS = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}


class TwilioSignature:
    def __init__(self, auth_token: str, public_url: str) -> None:
        self._token = auth_token.encode()
        self._validator = RequestValidator(auth_token)
        self._public_url = public_url.rstrip("/")

    def url_for(self, path_qs: str) -> str:
        return f"{self._public_url}{path_qs}"

    def verify(
        self,
        path_qs: str,
        params: Mapping[str, str],
        signature: str | None,
        settings_header: str | None = None,
    ) -> bool:
        """`params`: the form, one value per name (as the webhooks read it)."""
        if not signature:
            return False
        # Webhook Rules may sign with HMAC-SHA256 and say so in this header.
        algorithm = get_signature_algorithm(settings_header) if settings_header else None
        url = self.url_for(path_qs)
        try:
            # The URL as configured is what Twilio signs: one HMAC settles almost every
            # request. The validator's full check (with and without the default port,
            # two more HMACs) is for the rest.
            if hmac.compare_digest(self._signed(url, params, algorithm), signature.encode()):
                return True
            return bool(self._validator.validate(url, params, signature, algorithm))
        except (ValueError, TypeError):
            return False  # an algorithm we do not know, or a signature that is not text

    def _signed(self, url: str, params: Mapping[str, str], algorithm: str | None) -> bytes:
        """Twilio's signature of a form at `url`, as its validator computes it (the URL,
        then each name and value in name order), without the validator's per-parameter
        look-ups: they raise two AttributeErrors for each name of a plain mapping."""
        digest = _DIGESTS.get((algorithm or "HMAC_SHA1").upper())
        if digest is None:
            raise ValueError(f"unsupported webhook signature algorithm: {algorithm}")
        text = url + "".join(name + value for name, value in sorted(params.items()))
        return base64.b64encode(hmac.digest(self._token, text.encode(), digest))
