"""The audio filtergraph of the final join: music bed, ducking and loudness normalisation."""

from __future__ import annotations

from pathlib import Path

from rdpipe.assemble.errors import AssemblyInvalid
from rdpipe.assemble.target import SAMPLE_RATE
from rdpipe.model.output import OutputSpec
from rdpipe.prepare.music_checks import music_file_problem

_STEREO = f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"


def music_input(spec: OutputSpec, base: Path) -> str | None:
    """What ffmpeg reads the music from: its URL, or its file checked to hold sound.

    ``validate`` checked the file already; this catches one changed since, before ffmpeg runs,
    with the same message rather than ffmpeg's output (issue 11).
    """
    if spec.music is None:
        return None
    source = spec.music.source
    if source.startswith(("http://", "https://")):
        return source
    path = base / source
    problem = music_file_problem(path)
    if problem is not None:
        raise AssemblyInvalid(f"output.music.source: music file {source!r} {problem}")
    return str(path)


def build_audio_graph(
    spec: OutputSpec, *, duration: float, music_input: int | None, clips: str = "[0:a]"
) -> list[str]:
    """Filter chains from the clips' sound (and the music input) to ``[a]``; empty if none."""
    music = spec.music if music_input is not None else None
    if music is None and spec.loudness is None:
        return []
    steps: list[str] = []
    mixed = clips
    if music is not None:
        fade_start = max(0.0, duration - music.fade_out)
        bed = (
            f"[{music_input}:a]{_STEREO},atrim=end={duration:.6f},volume={music.volume:g},"
            f"afade=t=out:st={fade_start:.6f}:d={music.fade_out:g}"
        )
        if music.duck:
            steps.append(f"{clips}asplit=2[voice][key]")
            steps.append(f"{bed}[bed]")
            steps.append(
                "[bed][key]sidechaincompress=threshold=0.03:ratio=8:attack=20:release=400[duck]"
            )
            steps.append("[voice][duck]amix=inputs=2:duration=first:normalize=0[mixed]")
        else:
            steps.append(f"{bed}[bed]")
            steps.append(f"{clips}[bed]amix=inputs=2:duration=first:normalize=0[mixed]")
        mixed = "[mixed]"
    if spec.loudness is not None:
        steps.append(f"{mixed}loudnorm=I={spec.loudness:g}:TP=-1.5:LRA=11,{_STEREO}[a]")
    else:
        steps.append(f"{mixed}anull[a]")
    return steps
