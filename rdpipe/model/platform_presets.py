"""Deliverable presets for the common platforms: frame size, loudness, longest length, the
safe area that the platform's own buttons and text leave free, and how captions go out.

Each preset states where its figures come from. Platforms publish sizes and lengths; most do
not publish a loudness target, and the figure given is the level their playback
normalisation was measured at, which the source names. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    """One platform's deliverable settings.

    ``fields`` are ``outputs:`` entry fields (as a user would write them) that the preset sets
    unless the entry sets them itself; ``source`` says where each figure comes from.
    """

    name: str
    title: str
    fields: dict[str, Any]
    source: str
    notes: tuple[str, ...] = field(default_factory=tuple)


_VERTICAL_SAFE = {"top": 0.08, "bottom": 0.2, "left": 0.05, "right": 0.12}

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "youtube",
            "YouTube (16:9 master)",
            {
                "ratio": "16:9",
                "size": "1920x1080",
                "loudness": -14.0,
                "max_seconds": 12 * 3600.0,
                "captions": {"sidecars": ["srt", "vtt"], "burn_in": False},
            },
            "YouTube Help, 'Recommended upload encoding settings' (1920x1080 for 16:9 1080p) and "
            "'Upload videos longer than 15 minutes' (12 hours at most); loudness: YouTube "
            "publishes no target, its playback normalisation has been measured at -14 LUFS "
            "integrated (loudnesspenalty.com).",
        ),
        Preset(
            "youtube-shorts",
            "YouTube Shorts (9:16)",
            {
                "ratio": "9:16",
                "size": "1080x1920",
                "loudness": -14.0,
                "max_seconds": 180.0,
                "safe_area": _VERTICAL_SAFE,
                "captions": {"sidecars": [], "burn_in": True},
            },
            "YouTube Help, 'Upload YouTube Shorts' (vertical, up to 3 minutes since 15 Oct "
            "2024); loudness as for youtube.",
        ),
        Preset(
            "tiktok",
            "TikTok (9:16)",
            {
                "ratio": "9:16",
                "size": "1080x1920",
                "loudness": -14.0,
                "max_seconds": 600.0,
                "safe_area": _VERTICAL_SAFE,
                "captions": {"sidecars": [], "burn_in": True},
            },
            "TikTok Ads Manager, 'Video ad specifications' (1080x1920, 9:16; the caption, "
            "buttons and profile picture cover about the bottom fifth and the right edge); "
            "in-app uploads up to 10 minutes (TikTok newsroom, 2022). No published loudness "
            "target: -14 LUFS as for other mobile platforms.",
        ),
        Preset(
            "instagram-reels",
            "Instagram Reels (9:16)",
            {
                "ratio": "9:16",
                "size": "1080x1920",
                "loudness": -14.0,
                "max_seconds": 180.0,
                "safe_area": {"top": 0.14, "bottom": 0.22, "left": 0.05, "right": 0.05},
                "captions": {"sidecars": [], "burn_in": True},
            },
            "Instagram Help, 'Reels' (1080x1920; up to 3 minutes since January 2025); Meta's "
            "Reels ads safe zone keeps the top 14% and bottom 35% free of key text, of which "
            "the bottom 22% is covered by the caption and buttons. No published loudness "
            "target: -14 LUFS.",
        ),
        Preset(
            "instagram-square",
            "Instagram feed (1:1)",
            {
                "ratio": "1:1",
                "size": "1080x1080",
                "loudness": -14.0,
                "max_seconds": 3600.0,
                "captions": {"sidecars": [], "burn_in": True},
            },
            "Instagram Help, feed video (1080x1080 square; feed videos up to 60 minutes). No "
            "published loudness target: -14 LUFS.",
        ),
        Preset(
            "broadcast-ebu",
            "Broadcast, EBU R 128 (16:9 HD)",
            {
                "ratio": "16:9",
                "size": "1920x1080",
                "loudness": -23.0,
                "captions": {"sidecars": ["srt", "vtt"], "burn_in": False},
            },
            "EBU R 128 (2023): programme loudness -23.0 LUFS, +/-0.5 LU for files; ITU-R BT.709 "
            "HD frame 1920x1080.",
        ),
    )
}
