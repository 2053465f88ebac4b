"""Publishing a local media file through the shared store: the relay's host of last resort.

When the relay refuses to host a reference's extension (issue 14, section 1), the file is put
in the team's store under ``media/<md5>.<ext>`` and handed to the relay as a presigned GET URL:
anyone holding the URL may download that one object, with no credentials, until it expires.
Only object stores sign such URLs (S3, GCS, Azure); a shared folder, ssh and memory store
cannot, and say why (:func:`rdpipe.remote.publish_refusal`).

The object is uploaded once (another publish of the same bytes finds it, of its size, and only
signs a new URL), through a temporary name like a clip (:mod:`rdpipe.remote.transfer`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .backends import Backend
from .errors import CannotPublish
from .layout import media_path
from .transfer import upload_media

#: The longest a presigned URL may live, in seconds: 7 days, the most S3 and GCS sign for.
LONGEST_URL_LIFETIME = 7 * 24 * 3600

# What a back-end raises when it cannot sign: adlfs without an account key, ValueError;
# gcsfs with credentials holding no private key (a user's login), AttributeError, or without
# google-cloud-storage, ImportError; an fsspec class without sign, NotImplementedError.
_CANNOT_SIGN = (NotImplementedError, ValueError, AttributeError, ImportError)


@dataclass(frozen=True)
class PublishedMedia:
    """A media file published in the shared store: ``url``, its presigned GET URL (a bearer
    credential for that one object: keep it out of messages), valid until ``expires_at``
    (epoch seconds by the store's clock; the URL lives at least that long, unless it was
    signed with temporary credentials, such as an SSO session's, that end sooner)."""

    url: str
    expires_at: float


def publish_media(
    backend: Backend,
    source: Path | bytes,
    md5: str,
    ext: str,
    *,
    expires_in: float,
    clock: Callable[[], float],
) -> PublishedMedia:
    """Put ``source`` at ``media/<md5>.<ext>`` unless the store holds it (of its size), then
    sign a GET URL valid ``expires_in`` seconds (rounded up to whole seconds).

    Raises :class:`CannotPublish` before anything is read or sent when the back-end cannot
    sign, or after the upload when its credentials cannot; ``ValueError`` for an ``md5`` or
    ``ext`` :func:`~rdpipe.remote.layout.media_path` refuses or ``expires_in`` outside
    (0, :data:`LONGEST_URL_LIFETIME`]; what :func:`~rdpipe.remote.transfer.upload_media`
    raises (the file changed, the store failed, the file cannot be read).
    """
    if backend.kind.no_publish_reason:
        raise CannotPublish(backend.url, backend.kind.no_publish_reason)
    relative = media_path(md5, ext)
    if not 0 < expires_in <= LONGEST_URL_LIFETIME:
        raise ValueError(f"a URL lives 0 to {LONGEST_URL_LIFETIME} s, not {expires_in}")
    seconds = math.ceil(expires_in)
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    target = backend.path(relative)
    if backend.size_of(target, "look for the media file") != size:
        upload_media(backend, source, target, md5=md5, size=size, suffix=f".{ext}")
    now = clock()  # before signing: the URL expires no earlier than now + seconds
    try:
        url = backend.sign(target, seconds, "sign a URL for the media file")
    except _CANNOT_SIGN as error:
        problem = f"its credentials cannot sign URLs ({str(error) or type(error).__name__})"
        raise CannotPublish(backend.url, problem) from error
    return PublishedMedia(url, now + seconds)
