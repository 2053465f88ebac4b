"""Where the client's settings come from: the API key, the base URL, and the timeouts.

Settings are read from a mapping handed in (the CLI passes ``os.environ``), never from the
process environment deep inside. The key is wrapped in :class:`ApiKey` so that no repr, str,
log line or exception message can show it by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rdpipe.client.retry import RetryPolicy
from rdpipe.errors import ExitCode, RdpipeError

KEY_VARIABLE = "RELAYDANCE_API_KEY"
BASE_URL_VARIABLE = "RELAYDANCE_BASE_URL"
DEFAULT_BASE_URL = "https://relaydance.com"


class ApiKey:
    """A secret API key: ``repr()`` and ``str()`` hide it; only :meth:`reveal` gives it out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the key itself, for the ``Authorization`` header and nothing else."""
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling would copy the secret into a file; refuse rather than leak it.
        raise TypeError("an ApiKey cannot be pickled")


class MissingApiKey(RdpipeError):
    """No API key was configured, so nothing can be sent to RelayDance."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self) -> None:
        super().__init__(
            f"{KEY_VARIABLE} is not set, so rdpipe cannot talk to RelayDance.",
            hint=(
                f"Set it in your shell (export {KEY_VARIABLE}=sk-...), "
                "or run with --offline to use the built-in simulator."
            ),
        )


class InvalidBaseUrl(RdpipeError):
    """``RELAYDANCE_BASE_URL`` is not an http(s) URL."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(
            f"{BASE_URL_VARIABLE} is not an http(s) URL: {value!r}",
            hint=f"Unset it to use {DEFAULT_BASE_URL}, or set it like https://relaydance.com.",
        )


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for each phase of a request; ``read`` is the gap allowed between bytes."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 30.0


@dataclass(frozen=True)
class ClientConfig:
    """Everything the client needs to reach RelayDance; built by :meth:`from_environ`."""

    api_key: ApiKey
    base_url: str = DEFAULT_BASE_URL
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ClientConfig:
        """Read ``RELAYDANCE_API_KEY`` and ``RELAYDANCE_BASE_URL`` from ``environ``."""
        key = environ.get(KEY_VARIABLE, "").strip()
        if not key:
            raise MissingApiKey()
        base_url = environ.get(BASE_URL_VARIABLE, "").strip() or DEFAULT_BASE_URL
        return cls(api_key=ApiKey(key), base_url=normalise_base_url(base_url))


def normalise_base_url(value: str) -> str:
    """Check ``value`` is an http(s) URL and drop a trailing slash and a ``/v1`` suffix."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidBaseUrl(value)
    trimmed = value.rstrip("/")
    # People paste the OpenAI-style base (".../v1"); the client adds /v1 itself.
    return trimmed.removesuffix("/v1")
