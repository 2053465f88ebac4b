"""The simulated media host: upload slots, hosted files and the asset library, in one place.

The API origin asks it for upload slots and assets; the storage origin stores and serves the
files; submit validation asks it what a hosted URL or an ``asset://`` URI stands for (it is
the :class:`~rdpipe.sim.references.MediaLookup` of a running simulator).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdpipe.sim.assets import Asset, AssetLibrary
from rdpipe.sim.hosting import HostedFiles
from rdpipe.sim.media import (
    CONTENT_TYPES,
    MEDIA_PREFIX,
    UPLOAD_PREFIX,
    MediaRules,
    is_md5,
    split_hosted_name,
)
from rdpipe.sim.responses import media_error
from rdpipe.sim.signing import UrlSigner

JsonObject = dict[str, Any]


class MediaHost:
    """Upload slots and assets over :class:`HostedFiles`; ``storage_url`` is set once serving.

    ``rules`` may be replaced at any time; an asset keeps the delay and verdict of the rules in
    force when it was created.
    """

    def __init__(
        self,
        rules: MediaRules,
        hosted: HostedFiles,
        signer: UrlSigner,
        clock: Callable[[], float],
    ) -> None:
        self.rules = rules
        self.hosted = hosted
        self.assets = AssetLibrary()
        self.signer = signer
        self.clock = clock
        self.storage_url = ""

    def upload_slot(self, md5: str, ext: str, expires: int) -> JsonObject:
        """``GET /api/upload-url``: where to ``PUT`` the file and where it is then served.

        Raises a 400 :class:`~rdpipe.sim.responses.Rejection` for a missing extension, a bad
        md5 or an extension this host refuses.
        """
        ext = ext.lower()
        if not ext:
            raise media_error(400, "ext is required")
        if not is_md5(md5):
            raise media_error(400, "md5 must be 32 lower-case hex digits")
        content_type = self.rules.content_type(ext)
        if content_type is None:
            raise media_error(400, f"unsupported file type: {ext}")
        name = f"{md5}.{ext}"
        return {
            "exists": self.hosted.path(name) is not None,
            "upload_url": self.signer.sign(self.storage_url, UPLOAD_PREFIX + name, expires),
            "source_url": f"{self.storage_url}{MEDIA_PREFIX}{name}",
            "content_type": content_type,
        }

    def create_asset(self, body: Any) -> JsonObject:
        """``POST /api/assets/virtual/create``: register a hosted image; 400 when it is not one."""
        if not isinstance(body, dict):
            raise media_error(400, "request body must be a JSON object")
        source_url, asset_type, name = (body.get(k) for k in ("source_url", "asset_type", "name"))
        if asset_type not in (None, "Image"):
            raise media_error(400, f"unsupported asset_type: {asset_type}")
        if name is not None and not isinstance(name, str):
            raise media_error(400, "name must be a string")
        if not isinstance(source_url, str) or self.hosted_path(source_url) is None:
            raise media_error(400, f"source_url is not a hosted file: {source_url}")
        md5, ext = split_hosted_name(self._hosted_name(source_url)) or ("", "")
        if not CONTENT_TYPES.get(ext, "").startswith("image/"):
            raise media_error(400, f"source_url is not an image: {source_url}")
        rules = self.rules
        failure = rules.failure_reason if md5 in rules.failing_portraits else None
        asset = self.assets.create(
            source_url, name or "", now=self.clock(), delay=rules.asset_delay, failure=failure
        )
        return asset.view(asset.created_at)

    def asset_view(self, asset_id: str) -> JsonObject:
        """``GET /api/assets/{id}/status``; a 404 for an id never issued."""
        asset = self.assets.get(asset_id)
        if asset is None:
            raise media_error(404, "asset not found")
        return asset.view(self.clock())

    def asset_list(self) -> list[JsonObject]:
        """Every asset as ``id``, ``status``, ``source_url``, ``uri``, ``name`` (and ``reason``)."""
        now = self.clock()
        return [_listed(asset, now) for asset in self.assets.all()]

    # MediaLookup, for submit validation.

    def asset_status(self, asset_id: str) -> str | None:
        """The asset's status now, or ``None`` for an id never issued."""
        asset = self.assets.get(asset_id)
        return asset.status(self.clock()) if asset is not None else None

    def is_hosted_url(self, url: str) -> bool:
        """Whether ``url`` points into this host's ``/media/`` (whether or not the file exists)."""
        return bool(self.storage_url) and url.startswith(self.storage_url + MEDIA_PREFIX)

    def hosted_path(self, url: str) -> Path | None:
        """The file a hosted URL serves, or ``None`` (not this host's, or gone)."""
        if not self.is_hosted_url(url):
            return None
        return self.hosted.path(self._hosted_name(url))

    def _hosted_name(self, url: str) -> str:
        """The ``<md5>.<ext>`` a URL into ``/media/`` names (query and fragment dropped)."""
        tail = url[len(self.storage_url + MEDIA_PREFIX) :]
        return tail.split("?", 1)[0].split("#", 1)[0]


def _listed(asset: Asset, now: float) -> JsonObject:
    listed = asset.view(now)
    listed.update(source_url=asset.source_url, name=asset.name)
    return listed
