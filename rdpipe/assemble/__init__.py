"""The assembly stage: one storyboard video from many clips (the only code that runs ffmpeg).

Public names are re-exported here; the modules behind them are free to change.
"""

from __future__ import annotations

from rdpipe.assemble.argv import (
    build_card_argv,
    build_concat_argv,
    build_crossfade_argv,
    build_last_frame_argv,
    build_normalise_argv,
)
from rdpipe.assemble.clip_probes import probe_clips
from rdpipe.assemble.completeness import media_gap, probe_whole_duration
from rdpipe.assemble.errors import (
    AssemblyInvalid,
    ClipCorrupt,
    ClipIncomplete,
    ClipMissing,
    FfmpegFailed,
)
from rdpipe.assemble.frames import extract_last_frame
from rdpipe.assemble.join_plan import ClipInput, JoinPlan, Span, plan_join
from rdpipe.assemble.orientation import Orientation
from rdpipe.assemble.probe import AudioInfo, ClipInfo, probe_clip, probe_duration
from rdpipe.assemble.stage import AssemblyResult, assemble
from rdpipe.assemble.target import TargetFormat

__all__ = [
    "AssemblyInvalid",
    "AssemblyResult",
    "AudioInfo",
    "ClipCorrupt",
    "ClipIncomplete",
    "ClipInfo",
    "ClipInput",
    "ClipMissing",
    "FfmpegFailed",
    "JoinPlan",
    "Orientation",
    "Span",
    "TargetFormat",
    "assemble",
    "build_card_argv",
    "build_concat_argv",
    "build_crossfade_argv",
    "build_last_frame_argv",
    "build_normalise_argv",
    "extract_last_frame",
    "media_gap",
    "plan_join",
    "probe_clip",
    "probe_clips",
    "probe_duration",
    "probe_whole_duration",
]
