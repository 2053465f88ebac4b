"""The fsspec back-end behind a store URL, and the few operations the store needs of it.

Each URL scheme maps to one fsspec file system class, imported and built only when the store
is first used (:attr:`Backend.fs`), not when it is opened: a command that finds every clip
cached opens the store it is set to and never pays for importing fsspec (whose import starts
asyncio) or s3fs and botocore (about 0.4 s). Opening only looks for the back-end's package
(no import), so one that is not installed is still reported at once, with the pip command
that installs it. Every error a back-end raises (``OSError``, botocore's, aiohttp's, ...)
becomes :class:`RemoteUnavailable` where it leaves this module, chained with ``from``.

What differs between back-ends is written here once:

- object stores (S3, GCS, Azure) have no folders, and a single PUT is atomic;
- file systems (local, ssh) need folders made, and a file is written in place, so a small
  file is written beside its final name and moved there;
- atomic create-if-absent: ``os.link`` on a local file system (fails if the name exists, and the
  file is whole before it gets its name), a conditional PUT on S3 (``If-None-Match: *``) and GCS
  (``ifGenerationMatch=0``); none on Azure (adlfs) and ssh (sshfs), so no claims there;
- presigned GET URLs (fsspec's ``sign(path, expiration=<seconds>)``): s3fs, gcsfs and adlfs
  sign; a folder, ssh and memory store cannot, so they publish no media (issue 14).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import stat
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .errors import RemoteBackendMissing, RemoteUnavailable, SharedFolderMissing
from .layout import temporary_path

CHUNK_SIZE = 1 << 20  # bytes read or written at a time on a file system, and read from disk
# On an object store each read is one ranged GET: fewer, larger requests, memory still flat
# (about three chunks); an upload buffers one multipart part (S3's smallest is 5 MiB).
_OBJECT_CHUNK = 8 << 20
_PART_SIZE = 5 << 20


class FileSystem(Protocol):
    """The part of fsspec's ``AbstractFileSystem`` the store uses; paths carry no scheme."""

    async_impl: bool

    def open(self, path: str, mode: str = "rb", **options: Any) -> Any: ...
    def cat_file(self, path: str) -> bytes: ...
    def info(self, path: str) -> dict[str, Any]: ...
    def cat(self, path: list[str], on_error: str = "raise", **options: Any) -> Any: ...
    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite") -> None: ...
    def mv(self, path1: str, path2: str) -> None: ...
    def rm(self, path: str) -> None: ...
    def size(self, path: str) -> int | None: ...
    def exists(self, path: str) -> bool: ...
    def ls(self, path: str, detail: bool = True) -> list[str]: ...
    def makedirs(self, path: str, exist_ok: bool = False) -> None: ...
    def link(self, source: str, target: str) -> None: ...
    def sign(self, path: str, expiration: int = 100) -> str: ...


_NO_CREATE = "{} offers no atomic create-if-absent, so two runs cannot tell who generates a shot"


@dataclass(frozen=True)
class BackendKind:
    """What rdpipe knows of one fsspec back-end (see the module's docstring)."""

    module: str  # where the file system class is
    class_name: str
    package: str  # what pip installs ("fsspec": always there)
    extra: str = ""  # rdpipe's extra that pulls the package in ("" for fsspec's own)
    object_store: bool = False
    create: Literal["link", "conditional", ""] = ""  # atomic create-if-absent; "": none
    no_claims_reason: str = ""  # why not, when ``create`` is ""
    errors: tuple[str, ...] = ()  # the back-end's own exception classes, beside OSError
    read_size: int = CHUNK_SIZE  # bytes a download reads from the store at a time
    local: bool = False  # a folder of this machine: checked when opened, errors name it
    no_publish_reason: str = ""  # why it cannot presign GET URLs; "": it can
    # The botocore signature version presigned URLs are made with ("": the back-end's own).
    # botocore presigns S3 URLs with SigV2 by default, which S3's newer regions and most
    # S3-compatible stores refuse, so S3 URLs are signed by a client set to SigV4.
    signature_version: str = ""

    @property
    def options(self) -> dict[str, Any]:
        """Constructor options: a fresh instance each time (fsspec shares them otherwise, and a
        shared one keeps the credentials and endpoint it was made with), no listing cache."""
        options: dict[str, Any] = {"skip_instance_cache": True}
        if self.object_store:
            options["use_listings_cache"] = False
        return options

    @property
    def read_options(self) -> dict[str, Any]:
        """``open(..., "rb")`` options: on object stores one ranged GET per read, no cache."""
        if not self.object_store:
            return {}
        return {"block_size": self.read_size, "cache_type": "none"}

    @property
    def write_options(self) -> dict[str, Any]:
        """``open(..., "wb")`` options: on object stores, the multipart part size."""
        return {"block_size": _PART_SIZE} if self.object_store else {}


def _object_store(
    module: str,
    class_name: str,
    extra: str,
    *,
    create: Literal["conditional", ""] = "",
    no_claims_reason: str = "",
    errors: tuple[str, ...],
    signature_version: str = "",
) -> BackendKind:
    return BackendKind(
        module, class_name, module, extra, True, create, no_claims_reason, errors, _OBJECT_CHUNK,
        signature_version=signature_version,
    )  # fmt: skip


_HTTP_ERRORS = ("aiohttp.ClientError",)
_S3 = _object_store(
    "s3fs",
    "S3FileSystem",
    "s3",
    create="conditional",  # If-None-Match: *
    errors=("botocore.exceptions.BotoCoreError", "botocore.exceptions.ClientError", *_HTTP_ERRORS),
    signature_version="s3v4",
)
_GCS = _object_store(
    "gcsfs",
    "GCSFileSystem",
    "gcs",
    create="conditional",  # ifGenerationMatch=0
    errors=("gcsfs.retry.HttpError", "google.auth.exceptions.GoogleAuthError", *_HTTP_ERRORS),
)
_AZURE = _object_store(
    "adlfs",
    "AzureBlobFileSystem",
    "azure",
    no_claims_reason=_NO_CREATE.format("adlfs"),
    errors=("azure.core.exceptions.AzureError",),
)
_NO_URLS = "{} cannot hand out URLs that a server elsewhere can download from"
_SSH = BackendKind(
    "sshfs", "SSHFileSystem", "sshfs", "ssh", no_claims_reason=_NO_CREATE.format("sshfs"),
    errors=("asyncssh.Error",), no_publish_reason=_NO_URLS.format("an ssh store"),
)  # fmt: skip
_LOCAL = BackendKind(
    "fsspec.implementations.local", "LocalFileSystem", "fsspec", create="link", local=True,
    no_publish_reason=_NO_URLS.format("a shared folder"),
)  # fmt: skip
_MEMORY = BackendKind(
    "fsspec.implementations.memory", "MemoryFileSystem", "fsspec",
    no_claims_reason="a memory:// store lives in one process and has no atomic create",
    no_publish_reason=_NO_URLS.format("a memory:// store"),
)  # fmt: skip
_KINDS = {
    "file": _LOCAL,
    "memory": _MEMORY,
    "s3": _S3,
    "gs": _GCS,
    "gcs": _GCS,
    "az": _AZURE,
    "abfs": _AZURE,
    "ssh": _SSH,
    "sftp": _SSH,
}


# What changes when an object is written again: its checksum or generation on object stores,
# its modification time and inode on a file system (fsspec's names for them, back-end by
# back-end; the fields a back-end lacks read as None).
_VERSION_FIELDS = ("ETag", "etag", "generation", "LastModified", "last_modified", "mtime", "ino")


@dataclass(frozen=True)
class StoredObject:
    """A file in the store as seen at one moment: its size in bytes, and its version (equal
    versions: the same write)."""

    size: int
    version: tuple[str, ...]


@dataclass(frozen=True)
class Connection:
    """A back-end made ready: its file system, the store's root in it (``bucket/prefix``,
    ``/abs/folder``) and the exceptions that mean the store failed."""

    fs: FileSystem
    root: str
    errors: tuple[type[BaseException], ...]


class Backend:
    """A store's back-end: its URL and kind at once, its :class:`Connection` on first use.

    ``connect(signing)`` builds a connection (imports, constructs the file system); it is
    called once, by the first method that needs it, whichever thread that is (the store's
    methods run in worker threads, several at once). A ``connect`` that raises is tried again
    on next use. ``connect(True)`` builds the file system that presigns URLs, when the kind
    wants one of its own (:attr:`BackendKind.signature_version`).
    """

    def __init__(self, url: str, kind: BackendKind, connect: Callable[[bool], Connection]) -> None:
        self.url = url
        self.kind = kind
        self._connect = connect
        self._connection: Connection | None = None
        self._signer: FileSystem | None = None
        self._connecting = threading.Lock()

    @property
    def fs(self) -> FileSystem:
        """The fsspec file system (built now if it was not yet)."""
        return self._connected().fs

    @property
    def root(self) -> str:
        """The store's root in :attr:`fs`: ``bucket/prefix``, ``/abs/folder``."""
        return self._connected().root

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions that mean the store failed; ``OSError`` alone before the first use."""
        connection = self._connection
        return (OSError,) if connection is None else connection.errors

    def _connected(self) -> Connection:
        connection = self._connection
        if connection is None:
            with self._connecting:
                connection = self._connection
                if connection is None:
                    connection = self._connection = self._connect(False)
        return connection

    def sign(self, path: str, seconds: int, action: str) -> str:
        """A presigned GET URL of ``path``, valid ``seconds`` from now, that anyone holding it
        may download with no credentials (fsspec's ``sign``; made here, nothing is sent).

        Only for kinds without a :attr:`BackendKind.no_publish_reason`. The back-end's errors
        become :class:`RemoteUnavailable`; a back-end whose credentials cannot sign raises its
        own (adlfs without an account key: ``ValueError``; gcsfs without a service account's
        private key: ``AttributeError``).
        """
        with self.guard(action, path):
            return str(self._signing_fs().sign(path, expiration=seconds))

    def _signing_fs(self) -> FileSystem:
        if not self.kind.signature_version:
            return self.fs
        signer = self._signer
        if signer is None:
            with self._connecting:
                signer = self._signer
                if signer is None:
                    signer = self._signer = self._connect(True).fs
        return signer

    def path(self, relative: str) -> str:
        """``relative`` (a :mod:`rdpipe.remote.layout` path) under the store's root."""
        return f"{self.root}/{relative}"

    @contextlib.contextmanager
    def guard(self, action: str, path: str) -> Iterator[None]:
        """Raise the back-end's errors from the block as :class:`RemoteUnavailable`."""
        try:
            yield
        except self.errors as error:
            code, reason = None, str(error) or type(error).__name__
            if self.kind.local and isinstance(error, OSError):  # its own words, without path
                code, reason = error.errno, error.strerror or reason
            raise RemoteUnavailable(self.url, action, path, reason, errno=code) from error

    def check_root(self) -> None:
        """Raise :class:`SharedFolderMissing` unless a local folder store's root is a folder.

        One ``stat``, for ``file://`` stores only: their folders are otherwise made as needed,
        and an unmounted share must not silently become a private store on this disk. Object
        stores and ssh are not asked here (that would mean a connection): a missing bucket
        fails their first operation, in the back-end's own words.
        """
        if not self.kind.local:
            return
        folder = local_folder(self.url)
        try:
            found = os.stat(folder)
        except FileNotFoundError:
            raise SharedFolderMissing(self.url, folder, "nothing") from None
        except NotADirectoryError:
            raise SharedFolderMissing(self.url, folder, "file-in-path") from None
        except OSError as error:
            reason = error.strerror or str(error)
            raise RemoteUnavailable(
                self.url, "open the shared folder", folder, reason, errno=error.errno
            ) from error
        if not stat.S_ISDIR(found.st_mode):
            raise SharedFolderMissing(self.url, folder, "file")

    def read_bytes(self, path: str, action: str) -> bytes | None:
        """The whole (small) file at ``path``; ``None`` when there is none."""
        with self.guard(action, path):
            try:
                return self.fs.cat_file(path)
            except FileNotFoundError:
                return None

    def write_bytes(self, path: str, data: bytes, action: str) -> None:
        """Replace ``path`` with ``data`` so that a reader sees the old or the new bytes."""
        with self.guard(action, path):
            if self.kind.object_store:
                self.fs.pipe_file(path, data)
                return
            temporary = self.path(temporary_path(".json"))
            self.make_folder_for(temporary)
            self.fs.pipe_file(temporary, data)
            self.move(temporary, path)

    def create_exclusive(self, path: str, data: bytes, action: str) -> bool:
        """Create ``path`` holding ``data`` unless it exists (``False``), atomically.

        Only for kinds whose ``create`` is set (``ValueError`` otherwise): of two processes
        creating the same path at once, exactly one gets ``True``.
        """
        with self.guard(action, path):
            if self.kind.create == "conditional":
                try:
                    self.fs.pipe_file(path, data, mode="create")
                except FileExistsError:
                    return False
                return True
            if self.kind.create != "link":
                raise ValueError(f"{self.url} has no atomic create-if-absent")
            return self._link_new(path, data)

    def look(self, path: str, action: str) -> StoredObject | None:
        """What is stored at ``path`` now (one HEAD or stat); ``None`` when there is none."""
        with self.guard(action, path):
            try:
                info = self.fs.info(path)
            except FileNotFoundError:
                return None
        version = tuple(str(info.get(name)) for name in _VERSION_FIELDS)
        return StoredObject(int(info.get("size") or 0), version)

    def read_chunks(self, path: str, action: str) -> Generator[bytes, None, None]:
        """The file at ``path``, streamed ``kind.read_size`` bytes at a time (one ranged GET
        each on object stores); close the generator to stop early."""
        with self.guard(action, path):
            stream = self.fs.open(path, "rb", **self.kind.read_options)
        try:
            while True:
                with self.guard(action, path):
                    chunk: bytes = stream.read(self.kind.read_size)
                if not chunk:
                    return
                yield chunk
        finally:
            with self.guard(action, path):
                stream.close()

    def size_of(self, path: str, action: str) -> int | None:
        """The size of the file at ``path`` in bytes; ``None`` when there is none."""
        with self.guard(action, path):
            try:
                size = self.fs.size(path)
            except FileNotFoundError:
                return None
            return None if size is None else int(size)

    def move(self, source: str, target: str) -> None:
        """Give ``source`` the name ``target`` (a rename; a server-side copy on object stores)."""
        self.make_folder_for(target)
        self.fs.mv(source, target)

    def discard(self, path: str) -> None:
        """Remove ``path`` if it is there, as cleanup: a failure to do so is not an error."""
        with contextlib.suppress(*self.errors):
            self.fs.rm(path)

    def list_names(self, folder: str, action: str) -> list[str]:
        """The names (last path part) of the files in ``folder``; ``[]`` when it is missing."""
        with self.guard(action, folder):
            try:
                listed = self.fs.ls(folder, detail=False)
            except FileNotFoundError:
                return []
        return [str(item).rstrip("/").rsplit("/", 1)[-1] for item in listed]

    def make_folder_for(self, path: str) -> None:
        """Make the folder ``path`` goes in, where the back-end has folders."""
        if not self.kind.object_store:
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)

    def _link_new(self, path: str, data: bytes) -> bool:
        temporary = self.path(temporary_path(".json"))
        self.make_folder_for(temporary)
        self.make_folder_for(path)
        self.fs.pipe_file(temporary, data)
        try:
            self.fs.link(temporary, path)
        except FileExistsError:
            return False
        finally:
            self.fs.rm(temporary)
        return True


def open_backend(url: str) -> Backend:
    """The back-end for ``url`` (with its scheme, as :mod:`rdpipe.remote.config` gives it).

    Imports and connects to nothing: the file system is built on first use. Raises
    :class:`RemoteBackendMissing` (with the pip command) when the scheme's package is not
    installed (looked for without importing it; a package that is there but fails to import
    raises the same on first use), ``ValueError`` for a scheme rdpipe does not know.
    """
    scheme = url.split("://", 1)[0].lower()
    kind = _KINDS.get(scheme)
    if kind is None:
        raise ValueError(f"no shared-store back-end for {url!r}")
    if not _installed(kind.package):
        raise RemoteBackendMissing(url, kind.package, kind.extra)
    return Backend(url, kind, lambda signing: _connect(url, kind, signing=signing))


def publish_refusal(url: str) -> str | None:
    """Why the store at ``url`` cannot hand out presigned GET URLs, as a clause; ``None`` when
    its kind can (S3, GCS, Azure). Known from the scheme alone: nothing is imported or asked
    (the credentials are tried by a publish). Raises ``ValueError`` for an unknown scheme."""
    kind = _KINDS.get(url.split("://", 1)[0].lower())
    if kind is None:
        raise ValueError(f"no shared-store back-end for {url!r}")
    return kind.no_publish_reason or None


def local_folder(url: str) -> str:
    """The folder a ``file://`` store's URL (in its normal form) names: the path as it is."""
    return url.removeprefix("file://").rstrip("/")


def _installed(package: str) -> bool:
    """Whether the top-level ``package`` can be imported (found on the path; not imported)."""
    try:
        return importlib.util.find_spec(package) is not None
    except ValueError:  # imported already, without a spec
        return True


def _connect(url: str, kind: BackendKind, *, signing: bool = False) -> Connection:
    try:
        module = importlib.import_module(kind.module)
    except ImportError as error:
        raise RemoteBackendMissing(url, kind.package, kind.extra) from error
    filesystem_class = getattr(module, kind.class_name)
    options = {**filesystem_class._get_kwargs_from_urls(url), **kind.options}
    if signing and kind.signature_version:
        options["config_kwargs"] = {"signature_version": kind.signature_version}
    if kind.local:  # the folder open_shared_store looked at, character for character
        root = local_folder(url)
    else:
        root = str(filesystem_class._strip_protocol(url)).rstrip("/")
    errors: tuple[type[BaseException], ...] = (OSError, *_exception_classes(kind.errors))
    try:
        filesystem = filesystem_class(**options)
    except errors as error:  # a back-end's settings it cannot use (a bad AWS config file)
        reason = str(error) or type(error).__name__
        raise RemoteUnavailable(url, "open the store", root, reason) from error
    return Connection(filesystem, root, errors)


def _exception_classes(names: tuple[str, ...]) -> list[type[BaseException]]:
    """The classes named ``module.Class`` that can be imported (a dependency may be absent)."""
    found: list[type[BaseException]] = []
    for name in names:
        module_name, class_name = name.rsplit(".", 1)
        try:
            candidate = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            continue
        if isinstance(candidate, type) and issubclass(candidate, BaseException):
            found.append(candidate)
    return found
