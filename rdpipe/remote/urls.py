"""What a store URL may be, and its one normal form: a user's setting names the store meant, or
is refused (issue 13, section 2).

A setting (``--remote``, ``RDPIPE_REMOTE``, ``rdpipe.toml``'s ``url``) is either

- a folder path (``/mnt/team/rdpipe``, ``../clips``, ``~/clips``, ``./name:with-colon``),
  relative to the ``rdpipe.toml`` that names it or to the working directory; or
- a URL of a supported scheme, ``<scheme>://<bucket, container or host>/<prefix>``, or for a
  folder ``file:///abs/path``, ``file://localhost/abs/path`` or ``file:/abs/path``.

Anything else is refused rather than guessed, because a wrong guess goes unnoticed: before
this, ``s3:/team/rd`` or ``gs:bucket`` became a folder inside the repository, a private store
whose claims coordinate nobody. So are refused: a scheme without ``//`` (``s3:/team/rd``, and
any ``word:...`` that is not a path: a folder whose name holds ``:`` is written ``./a:b``); a
``file://`` URL naming another host (``file://tmp/x`` is ``/x`` on the host ``tmp``); a query
or fragment (``?``, ``#``: rdpipe passes none to the back-end, whose options come from its own
settings); an empty path segment (``s3://team//rd``: on an object store ``team//rd`` and
``team/rd`` are different prefixes, so no normalising is done, the user is told the URL to
write); an unknown scheme, with the supported ones. ``memory://`` stores (one process) are
not accepted here; tests open them with :func:`rdpipe.remote.open_shared_store` directly.

Normal form: the scheme lowercased, no trailing ``/``; a folder is ``file://`` + its absolute,
resolved path (percent-escapes of a ``file:`` URL decoded, as :meth:`pathlib.Path.as_uri`
writes them).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from .config_file import CONFIG_FILE_NAME
from .errors import RemoteConfigInvalid

#: The URL schemes a user may name a store with.
SCHEMES = frozenset({"file", "s3", "gs", "gcs", "az", "abfs", "ssh", "sftp"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(.*)$", re.DOTALL)
_SCHEMES_HINT = (
    "Use file://, s3://, gs://, az://, ssh:// (or sftp://) followed by where the store lives, "
    "or a folder path."
)
_LOCAL_HOSTS = ("", "localhost")


class _Refused(Exception):
    """A URL refused: what is wrong with it, and what to write instead."""

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


def normalize_url(value: str, *, base: Path, source: str, line: int = 0) -> str:
    """``value`` in its normal form (see the module's docstring); relative folders are taken
    from ``base``.

    Raises :class:`RemoteConfigInvalid` (exit code 2) naming ``source`` (``--remote``,
    ``RDPIPE_REMOTE`` or the ``rdpipe.toml``) and ``line``, with what to write instead, for a
    value that does not name a store unambiguously.
    """
    try:
        return _normalized(value.strip(), base)
    except _Refused as refused:
        field = "remote.url" if line or source.endswith(CONFIG_FILE_NAME) else ""
        raise RemoteConfigInvalid(source, line, field, refused.problem, refused.hint) from None


def _normalized(text: str, base: Path) -> str:
    if not text:
        raise _Refused("the store URL is empty", _SCHEMES_HINT)
    match = _SCHEME.match(text)
    if match is None:
        return _folder_url(text, base)
    scheme, rest = match.group(1).lower(), match.group(2)
    if not rest.startswith("//"):
        return _without_slashes(text, scheme, rest)
    if scheme not in SCHEMES:
        raise _Refused(f"'{scheme}://' is not a supported store ({text})", _SCHEMES_HINT)
    _refuse_query_or_fragment(text, scheme, rest[2:])
    place = rest[2:].rstrip("/")
    if not place:
        example = "file:///mnt/team/rdpipe" if scheme == "file" else f"{scheme}://team-clips/rdpipe"
        hint = f"Add the bucket or folder, as in {example}."
        raise _Refused(f"{text} names no place after '{scheme}://'", hint)
    if scheme == "file":
        return _file_url(text, place)
    _refuse_empty_segments(text, f"{scheme}://", place)
    return f"{scheme}://{place}"


def _without_slashes(text: str, scheme: str, rest: str) -> str:
    """``<scheme>:<rest>`` with no ``//``: only ``file:/abs/path`` names a store."""
    if scheme == "file" and rest.startswith("/"):
        _refuse_query_or_fragment(text, scheme, rest)
        return _file_url(text, rest.rstrip("/"))
    if scheme == "file":
        hint = "Write the folder as a plain path, or as file:///abs/path."
        raise _Refused(f"'{text}' is not a folder URL: 'file:' takes an absolute path", hint)
    if scheme in SCHEMES:
        place = "/".join(part for part in rest.split("/") if part) or "<bucket>/<prefix>"
        problem = f"'{text}' is not a store URL: '{scheme}:' must be followed by '//'"
        raise _Refused(problem, f"Write {scheme}://{place}.")
    problem = f"'{text}' looks like a URL of an unknown kind ('{scheme}:'), not a folder"
    hint = f"{_SCHEMES_HINT} A folder whose name holds ':' is written ./{text}."
    raise _Refused(problem, hint)


def _file_url(text: str, place: str) -> str:
    """The folder a ``file:`` URL names: ``place`` is what follows ``file://`` (a host, then
    the absolute path), or ``file:``'s absolute path (``/abs/path``: no host)."""
    host, _, path = place.partition("/")
    if host.lower() not in _LOCAL_HOSTS:
        where = f"/{path}" if path else "/"
        problem = f"{text} names {where} on the host '{host}', not a folder of this machine"
        hint = f"Write file:///{place} (three slashes) for the folder /{place}."
        raise _Refused(problem, hint)
    if not path:
        hint = "Add the folder, as in file:///mnt/team/rdpipe."
        raise _Refused(f"{text} names no folder", hint)
    _refuse_empty_segments(text, f"file://{host}/", path)
    return "file://" + Path("/" + unquote(path)).resolve().as_posix()


def _refuse_query_or_fragment(text: str, scheme: str, place: str) -> None:
    found = re.search(r"[?#]", place)
    if found is None:
        return
    name = "a query" if found.group() == "?" else "a fragment"
    problem = f"{text} has {name} ('{place[found.start() :]}'); a store URL takes none"
    hint = f"Write {scheme}://{place[: found.start()].rstrip('/')}"
    if scheme == "file":
        hint += ", or the folder as a plain path (a path may hold '?' and '#')."
    else:
        hint += ": the back-end's options and credentials come from its own settings (such as "
        hint += "AWS_PROFILE), never from the URL."
    raise _Refused(problem, hint)


def _refuse_empty_segments(text: str, prefix: str, path: str) -> None:
    parts = path.split("/")
    if "" in parts:
        fixed = prefix + "/".join(part for part in parts if part)
        raise _Refused(f"{text} has an empty path segment ('//')", f"Write {fixed}.")


def _folder_url(path: str, base: Path) -> str:
    return "file://" + (base / Path(path).expanduser()).resolve().as_posix()
