"""Helpers for the media host's tests: unique files, upload slots, hosting a file."""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any

import httpx
from PIL import Image
from PIL.PngImagePlugin import PngInfo


def unique_png(width: int = 400, height: int = 300) -> bytes:
    """A PNG of ``width`` x ``height`` whose bytes no other call returns (a unique text chunk)."""
    info = PngInfo()
    info.add_text("nonce", uuid.uuid4().hex)
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def unique_bytes(size: int = 4096) -> bytes:
    """``size`` bytes no other call returns (the sim does not decode video or audio)."""
    nonce = uuid.uuid4().bytes
    return (nonce * (size // len(nonce) + 1))[:size]


def md5_of(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def upload_slot(api: httpx.Client, data: bytes, ext: str) -> dict[str, Any]:
    """``GET /api/upload-url`` for ``data`` with ``ext``; asserts a 200."""
    response = api.get("/api/upload-url", params={"ext": ext, "md5": md5_of(data)})
    assert response.status_code == 200, response.text
    slot: dict[str, Any] = response.json()
    return slot


def host(api: httpx.Client, plain: httpx.Client, data: bytes, ext: str) -> str:
    """Upload ``data`` as a ``.ext`` file the way a client must; return its ``source_url``."""
    slot = upload_slot(api, data, ext)
    headers = {"Content-Type": slot["content_type"]}
    response = plain.put(slot["upload_url"], content=data, headers=headers)
    assert response.status_code == 200, response.text
    source_url: str = slot["source_url"]
    return source_url
