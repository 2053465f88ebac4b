"""What a download brought when it is not a video: size, stated type and the body's first line.

Whether a download is a clip is decided by its bytes (the probe reads them); a wrong
``Content-Type`` on a real MP4 is fine. When the bytes are not a video, the message reports
what arrived: a storage host answering 200 with a JSON error, an HTML page or nothing at all.
Pure functions, no I/O.
"""

from __future__ import annotations

#: Bytes of the body's start read to describe it.
HEAD_SIZE = 512
_LINE_LIMIT = 120
_TEXT_CONTROLS = {"\t", "\n", "\r"}


def not_a_video(source: str, size: int, content_type: str | None, head: bytes, probe: str) -> str:
    """Say what arrived instead of a video: ``host/path sent 20 bytes of application/json ...``.

    ``head`` is the start of the body, ``probe`` what reading it as a video said.
    """
    sent = what_was_sent(source, size, content_type)
    line = first_line(head)
    if line is not None:
        return f"{sent} instead of a video; its first line: {line}"
    if size == 0:
        return f"{sent} instead of a video"
    return f"{sent}, {probe}"


def what_was_sent(source: str, size: int, content_type: str | None) -> str:
    """``host/path sent 48867 bytes of video/mp4``: the size and stated type of a body."""
    return f"{source or 'the server'} sent {_amount(size, content_type)}"


def _amount(size: int, content_type: str | None) -> str:
    stated = content_type or "no stated type"
    if size == 0:
        return f"an empty body ({stated})"
    return f"{size} {'byte' if size == 1 else 'bytes'} of {stated}"


def first_line(head: bytes) -> str | None:
    """The first non-blank line of a text body, shortened; ``None`` for a binary body."""
    text = head.decode("utf-8", errors="replace")
    if len(head) >= HEAD_SIZE:  # a character may be cut at the end of the head
        text = text[:-3]
    if "\ufffd" in text or any(c < " " and c not in _TEXT_CONTROLS for c in text):
        return None
    line = next((line.strip() for line in text.splitlines() if line.strip()), None)
    if line is None or len(line) <= _LINE_LIMIT:
        return line
    return line[: _LINE_LIMIT - 1] + "…"
