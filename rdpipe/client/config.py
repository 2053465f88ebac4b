"""Where the client's settings come from: the API key, the base URL, the media host's URL and
the timeouts.

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
from rdpipe.redaction import KEY_VARIABLE

BASE_URL_VARIABLE = "RELAYDANCE_BASE_URL"
DEFAULT_BASE_URL = "https://relaydance.com"
MEDIA_URL_VARIABLE = "RELAYDANCE_MEDIA_URL"
#: RelayDance's own host for upload URLs and the asset library (relaydance-api.md §9, §10).
DEFAULT_MEDIA_URL = "https://pay.relaydance.com"


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


class InvalidApiKey(RdpipeError):
    """``RELAYDANCE_API_KEY`` holds a character no API key has; the key itself is never shown.

    A key goes into an HTTP header, where a line break or a control character is refused by the
    HTTP library (which then quotes the whole header in its error) or, worse, splits the header.
    """

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(
            f"{KEY_VARIABLE} is not a usable API key: it contains {problem}. An API key is one "
            "word of printable ASCII characters (keys look like sk-...); nothing was sent, and "
            "the key is not shown here.",
            hint=(
                f"Set it again with the key alone (export {KEY_VARIABLE}=sk-...), "
                "or run with --offline to use the built-in simulator."
            ),
        )


class InvalidBaseUrl(RdpipeError):
    """``RELAYDANCE_BASE_URL`` is not an http(s) URL rdpipe can send requests to."""

    exit_code = ExitCode.INVALID_INPUT
    variable = BASE_URL_VARIABLE
    what = "API address"
    fix = f"Unset it to use {DEFAULT_BASE_URL}, or set it like https://relaydance.com."

    def __init__(self, value: str, problem: str | None = None) -> None:
        self.value = value
        self.problem = problem
        shown = _without_user_info(value)
        message = (
            f"{self.variable} is not an http(s) URL: {shown!r}"
            if problem is None
            else f"{self.variable} is not a usable {self.what} ({shown!r}): {problem}"
        )
        super().__init__(message + "; nothing was sent.", hint=self.fix)


class InvalidMediaUrl(InvalidBaseUrl):
    """``RELAYDANCE_MEDIA_URL`` (where files are uploaded and portraits registered) is not an
    http(s) URL rdpipe can send requests to."""

    variable = MEDIA_URL_VARIABLE
    what = "media host address"
    fix = (
        f"Unset it to use the media host that goes with {BASE_URL_VARIABLE} "
        f"({DEFAULT_MEDIA_URL} for RelayDance itself), or set it like {DEFAULT_MEDIA_URL}."
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
    """Everything the client needs to reach RelayDance; built by :meth:`from_environ`.

    ``pool_size``: the most connections open at once to each host (the API's, and the storage
    host's), all kept alive between requests; a request beyond them waits up to
    ``timeouts.pool`` for one. ``None``: no limit. A run sets it from its concurrency
    (:func:`rdpipe.session.connections.pool_size`): the HTTP library looks at every pooled
    connection on each request, so a large pool costs CPU on every request. Raises
    ``ValueError`` below 1.

    ``media_url``: the media host (upload URLs, the asset library), which gets the key too.
    Left empty, it is set from ``base_url`` by :func:`default_media_url`.
    """

    api_key: ApiKey
    base_url: str = DEFAULT_BASE_URL
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    pool_size: int | None = None
    media_url: str = ""

    def __post_init__(self) -> None:
        if self.pool_size is not None and self.pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {self.pool_size}")
        if not self.media_url:
            object.__setattr__(self, "media_url", default_media_url(self.base_url))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ClientConfig:
        """Read ``RELAYDANCE_API_KEY``, ``RELAYDANCE_BASE_URL`` and ``RELAYDANCE_MEDIA_URL``.

        Each is checked here, where it is read, so that a bad value stops the command with
        exit 2 before any request is built (and before a library can quote the key).
        """
        key = environ.get(KEY_VARIABLE, "").strip()
        if not key:
            raise MissingApiKey()
        check_api_key(key)
        base_url = normalise_base_url(
            environ.get(BASE_URL_VARIABLE, "").strip() or DEFAULT_BASE_URL
        )
        return cls(api_key=ApiKey(key), base_url=base_url, media_url=media_url_from(environ))

    @classmethod
    def public_from_environ(cls, environ: Mapping[str, str]) -> ClientConfig:
        """As :meth:`from_environ`, but without a key when none is set: for the relay's public
        reads (``GET /api/pricing``, ``GET /api/status``) of a command that needs no key
        (``plan``). The empty key sends no ``Authorization`` header. Raises
        :class:`InvalidApiKey`, :class:`InvalidBaseUrl` or :class:`InvalidMediaUrl`."""
        if environ.get(KEY_VARIABLE, "").strip():
            return cls.from_environ(environ)
        base_url = normalise_base_url(
            environ.get(BASE_URL_VARIABLE, "").strip() or DEFAULT_BASE_URL
        )
        return cls(api_key=ApiKey(""), base_url=base_url, media_url=media_url_from(environ))


def media_url_from(environ: Mapping[str, str]) -> str:
    """The media host's URL ``environ`` names: ``RELAYDANCE_MEDIA_URL``, else the one that
    goes with ``RELAYDANCE_BASE_URL`` (:func:`default_media_url`). Needs no key, so commands
    that send nothing (``validate``, ``plan``) can name the host the run state keys files by.
    Raises :class:`InvalidBaseUrl` or :class:`InvalidMediaUrl`."""
    media_url = environ.get(MEDIA_URL_VARIABLE, "").strip()
    if media_url:
        return normalise_media_url(media_url)
    base_url = environ.get(BASE_URL_VARIABLE, "").strip() or DEFAULT_BASE_URL
    return default_media_url(normalise_base_url(base_url))


def default_media_url(base_url: str) -> str:
    """The media host that goes with ``base_url``: RelayDance's own for RelayDance's API,
    else the same address (a relay deployment, or the simulator, serves both)."""
    parts = urlsplit(base_url)
    default = urlsplit(DEFAULT_BASE_URL)
    ours = (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or 443) == (
        default.scheme,
        default.hostname,
        443,
    )
    return DEFAULT_MEDIA_URL if ours and parts.path.strip("/") == "" else base_url


def host_of(url: str) -> str:
    """``host[:port]`` of ``url``, without user info; IPv6 hosts in brackets."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parts.port}" if parts.port else host


def check_api_key(key: str) -> None:
    """Refuse a key with whitespace or a character outside printable ASCII, naming only where."""
    for position, character in enumerate(key, start=1):
        if not "!" <= character <= "~":
            raise InvalidApiKey(f"{_character_kind(character)} at character {position}")


def normalise_base_url(value: str) -> str:
    """Check ``value`` is an http(s) URL and drop a trailing slash and a ``/v1`` suffix.

    Raises :class:`InvalidBaseUrl`.
    """
    return _normalise(value, InvalidBaseUrl)


def normalise_media_url(value: str) -> str:
    """:func:`normalise_base_url` for ``RELAYDANCE_MEDIA_URL``; raises :class:`InvalidMediaUrl`."""
    return _normalise(value, InvalidMediaUrl)


def _normalise(value: str, invalid: type[InvalidBaseUrl]) -> str:
    problem = _text_problem(value)
    if problem is not None:
        raise invalid(value, problem)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as error:
        raise invalid(value, f"its host or port cannot be read ({error})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(value)
    problem = _part_problem(parts.username, parts.query, parts.fragment, port)
    if problem is not None:
        raise invalid(value, problem)
    # People paste the OpenAI-style base (".../v1"); the client adds /v1 itself.
    trimmed = value.rstrip("/").removesuffix("/v1").rstrip("/")
    if "/v1/" in urlsplit(trimmed).path + "/":
        raise invalid(
            value, "it names an API path; give the address in front of /v1, rdpipe adds the rest"
        )
    return trimmed


def _text_problem(value: str) -> str | None:
    for position, character in enumerate(value, start=1):
        if character.isspace() or not character.isprintable():
            return f"it contains {_character_kind(character)} at character {position}"
    return None


def _part_problem(username: str | None, query: str, fragment: str, port: int | None) -> str | None:
    if username is not None:
        return f"it carries a user name or password; the key goes in {KEY_VARIABLE}"
    if query or fragment:
        return "it has a query string or fragment (?... or #...); give the address alone"
    if port == 0:
        return "its port is 0"
    return None


def _character_kind(character: str) -> str:
    names = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", " ": "a space"}
    if character in names:
        return names[character]
    if character.isspace():
        return "a space character"
    if ord(character) < 0x20 or ord(character) == 0x7F or not character.isprintable():
        return "a control character"
    return "a character outside printable ASCII"


def _without_user_info(value: str) -> str:
    """``value`` with any ``user:password@`` blanked, for messages."""
    scheme, separator, rest = value.partition("://")
    if not separator or "@" not in rest.split("/", 1)[0]:
        return value
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
