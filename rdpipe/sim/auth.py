"""The API origin's bearer-key check, shared by the relay's routes and the media host's."""

from __future__ import annotations

from starlette.requests import Request

from rdpipe.sim.responses import openai_error


def authorize(request: Request, api_key: str | None) -> str:
    """Refuse a request without the right bearer key (any key when ``api_key`` is ``None``);
    return the key it carries.

    Raises a 401 :class:`~rdpipe.sim.responses.Rejection` in the OpenAI format.
    """
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise openai_error(401, "No API key provided (Authorization: Bearer sk-...)",
                           code="invalid_api_key")  # fmt: skip
    if api_key is not None and key != api_key:
        raise openai_error(401, "Invalid token", code="invalid_api_key")
    return key
