"""X-Twilio-Signature checks against the public URL Twilio was configured with.

Behind a proxy the request URL the server sees differs from the one Twilio signed,
so the URL is rebuilt from BRIDGE_PUBLIC_URL plus the path and raw query.
"""

from __future__ import annotations

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
        return bool(self._validator.validate(self.url_for(path_qs), params, signature, algorithm))
