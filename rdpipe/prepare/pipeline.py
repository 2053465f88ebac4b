"""Everything before the network: load, render and check a pipeline, reporting all problems.

``prepare_pipeline`` is what ``validate``, ``plan`` and ``run`` share: it returns the rendered
shots (request bodies exactly as they will be POSTed) or raises PipelineInvalid listing every
error with file, line, column and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdpipe.catalog import Catalog, load_catalog
from rdpipe.errors import Diagnostic, PipelineInvalid
from rdpipe.load.loader import LoadedPipeline, load_pipeline
from rdpipe.load.yaml_source import DataPath
from rdpipe.prepare.caption_checks import check_caption_fit
from rdpipe.prepare.checks import (
    check_model_structure,
    check_shot,
    colour_problems,
    untemplated_syntax,
    unused_references,
)
from rdpipe.prepare.media import LocalMedia
from rdpipe.prepare.media_checks import sending_problems
from rdpipe.prepare.model_ids import catalog_warnings, model_uses
from rdpipe.prepare.music_checks import check_music
from rdpipe.prepare.renditions import Renditions, awaiting_pick, draft_stage
from rdpipe.prepare.text_checks import check_text
from rdpipe.prepare.timeline_checks import check_timeline
from rdpipe.render import REFERENCE_ROLES, RenderedShot, ShotRenderer, send_as_of
from rdpipe.request import LocalFile
from rdpipe.templates import Problem

if TYPE_CHECKING:
    from rdpipe.text import SystemFonts


@dataclass(frozen=True)
class LocatedFile:
    """A local file some shot sends by URL, and one place it is written at: a reference's
    definition (``("references", name, kind)``) or a shot's frame (``("shots", i, role)``)."""

    where: DataPath
    file: LocalFile


@dataclass(frozen=True)
class PreparedPipeline:
    """A pipeline that passed every check, with its rendered shots and any warnings.

    ``local_files``: every place a local file the shots send by URL is written, in file order:
    each reference definition a shot cites once, each ``first_frame``/``last_frame`` path once
    per shot. Not deduplicated: two places holding the same bytes are two entries, so each is
    checked (``validate``'s hosting check) and shown (``plan``) under its own name and line.
    The session hosts each distinct file once whatever the places.
    """

    loaded: LoadedPipeline
    shots: list[RenderedShot]
    warnings: list[Diagnostic]
    local_files: tuple[LocatedFile, ...] = ()
    #: The final request of each drafted shot that awaits its ``pick:`` (not in ``shots``: it
    #: has no seed yet), so that the model id it will send is checked before any draft is.
    awaited_finals: tuple[RenderedShot, ...] = ()

    @property
    def name(self) -> str:
        return self.loaded.pipeline.name

    @property
    def awaiting_pick(self) -> list[str]:
        """Ids of the drafted shots that have no ``pick:`` yet (so no final), in order."""
        return awaiting_pick(self.shots)

    def draft_stage(self) -> PreparedPipeline:
        """This pipeline as ``run --drafts`` makes it: the draft takes, and the storyboard
        takes of the shots without drafts; no final, no regeneration."""
        return replace(self, shots=draft_stage(self.shots))


def prepare_pipeline(
    path: Path,
    *,
    cli_vars: Mapping[str, Any] | None = None,
    allow_outside: bool = False,
    catalog: Catalog | None = None,
    cwd: Path | None = None,
) -> PreparedPipeline:
    """Load, render and check ``path``; raise PipelineInvalid with every error found."""
    loaded = load_pipeline(path, cli_vars=cli_vars, cwd=cwd)
    return check_loaded(loaded, allow_outside=allow_outside, catalog=catalog)


def check_loaded(
    loaded: LoadedPipeline,
    *,
    allow_outside: bool = False,
    catalog: Catalog | None = None,
    fonts: SystemFonts | None = None,
) -> PreparedPipeline:
    """Render and check an already loaded pipeline (``fonts``: the installed fonts to count
    on for drawing text; by default what fontconfig finds)."""
    catalog = catalog or load_catalog()
    media = LocalMedia(loaded, allow_outside=allow_outside)
    renderer = ShotRenderer(loaded.pipeline, media, cli_vars=loaded.cli_vars)
    errors: list[Problem] = check_model_structure(loaded.pipeline)
    errors += untemplated_syntax(loaded.pipeline) + colour_problems(loaded.pipeline)
    errors += sending_problems(loaded.pipeline)
    for name, reference in loaded.pipeline.references.items():  # unused ones are checked too
        where = ("references", name, reference.kind)
        role = REFERENCE_ROLES[reference.kind]
        send_as = send_as_of(reference, loaded.pipeline)
        media.entry_for(reference.source, reference.kind, role, where, send_as=send_as)
    renditions = Renditions(loaded.pipeline, catalog, renderer.takes)
    shots, problems = renderer.render_all(renditions.expand)
    errors.extend(problems)
    errors.extend(media.problems)
    warnings = unused_references(loaded.pipeline) + _unique(renditions.warnings)
    for shot in shots:
        shot_errors, shot_warnings = check_shot(shot, loaded.pipeline, catalog)
        errors.extend(shot_errors)
        warnings.extend(shot_warnings)
    errors.extend(check_timeline(loaded.pipeline, shots))
    errors.extend(check_music(loaded, allow_outside=allow_outside))
    text_errors, text_warnings = check_text(loaded, shots, system=fonts)
    errors.extend(text_errors)
    warnings.extend(text_warnings)
    warnings.extend(check_caption_fit(loaded, shots, system=fonts))
    warning_diagnostics = [
        loaded.diagnostic(p.path, p.message, severity="warning") for p in warnings
    ]
    finals = tuple(renditions.awaited_finals)  # ids sent once picked: checked now
    warning_diagnostics += catalog_warnings(model_uses(loaded, [*shots, *finals]), catalog.ids())
    if errors:
        diagnostics = [loaded.diagnostic(p.path, p.message) for p in _unique(errors)]
        diagnostics.sort(key=lambda d: (d.file != loaded.shown_as, d.file, d.line, d.column))
        raise PipelineInvalid(diagnostics + warning_diagnostics)
    local = _local_files(loaded, shots, media)
    return PreparedPipeline(loaded, shots, warning_diagnostics, local, finals)


def _local_files(
    loaded: LoadedPipeline, shots: list[RenderedShot], media: LocalMedia
) -> tuple[LocatedFile, ...]:
    """Every place a local file the shots send by URL is written (a reference no shot cites
    sends nothing), in file order: the pipeline file's own places first, by line and column."""
    cited = {name for shot in shots for name in shot.references}
    sent = {file for shot in shots for file in shot.request.local_files}
    located = [
        LocatedFile(where, file)
        for where, file in media.uses()
        if file in sent and (where[0] != "references" or where[1] in cited)
    ]

    def place(item: LocatedFile) -> tuple[bool, str, int, int]:
        at = loaded.position(item.where)
        return at.file != loaded.shown_as, at.file, at.line, at.column

    return tuple(sorted(located, key=place))


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
