"""The audio filtergraph of the final join: music bed, ducking and loudness normalisation."""

from __future__ import annotations

from rdpipe.assemble.target import SAMPLE_RATE
from rdpipe.model.output import OutputSpec

_STEREO = f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"


def build_audio_graph(
    spec: OutputSpec, *, duration: float, music_input: int | None, realign: bool
) -> str | None:
    """Filtergraph from ``[0:a]`` (and the music input) to ``[a]``, or ``None`` if none is needed.

    ``realign`` resamples the clips' audio to its timestamps first: joined AAC clips overlap by
    part of a frame at every join, and without it those overlaps would add up to drift.
    """
    music = spec.music if music_input is not None else None
    if music is None and spec.loudness is None and not realign:
        return None
    steps: list[str] = []
    clips = "[0:a]"
    if realign:
        steps.append(f"{clips}aresample=async=1:min_hard_comp=0.005:first_pts=0,{_STEREO}[clips]")
        clips = "[clips]"
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
    return ";".join(steps)
