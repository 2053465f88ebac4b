"""Why an HTTP exchange failed, as a note or error says it: in words, never the HTTP library's
class name (``ReadTimeout``, ``ConnectError: All connection attempts failed``)."""

from __future__ import annotations

import httpx
import pytest

from rdpipe.client.http import plain_reason

TIMEOUTS = {"connect": 10.0, "read": 60.0, "write": 60.0, "pool": 30.0}


def _request() -> httpx.Request:
    return httpx.Request("GET", "http://127.0.0.1:1/v1/models", extensions={"timeout": TIMEOUTS})


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (httpx.ReadTimeout("", request=_request()), "timed out after 60 s waiting for the answer"),
        (httpx.ConnectTimeout("", request=_request()), "the connection did not open within 10 s"),
        (httpx.WriteTimeout("", request=_request()), "timed out after 60 s sending the request"),
        (httpx.PoolTimeout("", request=_request()), "no free connection within 30 s"),
        (httpx.ReadTimeout("timed out"), "timed out waiting for the answer"),  # no request
        (httpx.ConnectError("All connection attempts failed"), "connection refused"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused"),
        (
            httpx.ConnectError("[Errno -2] Name or service not known"),
            "the host name could not be resolved",
        ),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            "the connection could not be opened ([SSL: CERTIFICATE_VERIFY_FAILED] certificate "
            "verify failed)",
        ),
        (
            httpx.RemoteProtocolError("peer closed connection without sending complete message"),
            "the connection closed mid-answer",
        ),
        (httpx.ReadError(""), "the connection broke while the answer was read"),
        (
            httpx.ReadError("[Errno 104] Connection reset by peer"),
            "the connection broke while the answer was read ([Errno 104] Connection reset by peer)",
        ),
        (httpx.WriteError(""), "the connection broke while it was sent"),
        (httpx.LocalProtocolError("Illegal header value b'x'"), "Illegal header value b'x'"),
    ],
)
def test_reasons_are_words(error: Exception, said: str) -> None:
    assert plain_reason(error) == said
