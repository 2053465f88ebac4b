"""The audio filtergraph of the final join: music bed, ducking and loudness normalisation."""

from __future__ import annotations

from collections.abc import Sequence

from rdpipe.assemble.target import SAMPLE_RATE
from rdpipe.model.output import OutputSpec

_STEREO = f"aformat=sample_fmts=fltp:sample_rates={SAMPLE_RATE}:channel_layouts=stereo"


def build_clip_audio_chain(first_input: int, samples: Sequence[int]) -> str:
    """Decode each clip's sound on its own, cut or pad it to its slot, and join: ``[clips]``.

    Used when copied clips need their audio mixed: decoding the concat demuxer's joined AAC
    would keep every clip's encoder priming and overhang, which add up to drift.
    """
    chains = [
        f"[{first_input + index}:a]{_STEREO},apad,atrim=end_sample={count}[c{index}]"
        for index, count in enumerate(samples)
    ]
    joined = "".join(f"[c{index}]" for index in range(len(samples)))
    return ";".join([*chains, f"{joined}concat=n={len(samples)}:v=0:a=1[clips]"])


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
