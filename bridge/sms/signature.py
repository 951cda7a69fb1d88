"""X-Twilio-Signature checks against the public URL Twilio was configured with.

Behind a proxy the request URL the server sees differs from the one Twilio signed,
so the URL is rebuilt from BRIDGE_PUBLIC_URL plus the path and raw query.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from twilio.request_validator import RequestValidator, get_signature_algorithm


class TwilioSignature:
    def __init__(self, auth_token: str, public_url: str) -> None:
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
        if not signature:
            return False
        # Webhook Rules may sign with HMAC-SHA256 and say so in this header.
        algorithm = get_signature_algorithm(settings_header) if settings_header else None
        url = self.url_for(path_qs)
        try:
            # The URL as configured is what Twilio signs: one HMAC settles almost every
            # request. The validator's full check (with and without the default port,
            # two more HMACs) is for the rest.
            expected = str(self._validator.compute_signature(url, params, algorithm))
            if hmac.compare_digest(expected.encode(), signature.encode()):
                return True
            return bool(self._validator.validate(url, params, signature, algorithm))
        except (ValueError, TypeError):
            return False  # an algorithm we do not know, or a signature that is not text
