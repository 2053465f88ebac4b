"""Where one pipeline's run writes: its outputs, its clips and its state.

Offline previews never mix with paid clips: they live in ``<output dir>/offline/`` with a
separate state database, and write no lock file.

Git sees none of it but the lock file (issue 13 §5): each folder rdpipe makes for what it
generates (the output folder, ``offline/``, ``.cache/``, ``clips/``, ``review/``, the state
folder ``.rdpipe/``) gets a ``.gitignore`` of ``*`` as it is made
(:func:`~rdpipe.files.make_ignored_folder`). A folder that exists already is the user's, or an
older rdpipe's, and gets nothing: when the output folder is the pipeline's own folder or a
shared one, the files rdpipe writes at its top (the video, ``manifest.json``, captions,
contact sheet, ``review.html``) stay visible to git, for the user to ignore by name.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rdpipe.files import make_ignored_folder, on_read_only_filesystem
from rdpipe.model.deliverables import DeliverableSpec
from rdpipe.model.output import caption_path, contact_sheet_path
from rdpipe.state import CACHE_DIR_NAME, StatePaths, clip_folder

if TYPE_CHECKING:
    from rdpipe.load.loader import LoadedPipeline
    from rdpipe.prepare.pipeline import PreparedPipeline


@dataclass(frozen=True)
class Workspace:
    """The paths of one pipeline's run, online or offline: ``video`` is the storyboard video
    (the first deliverable's, :meth:`deliverable_video` gives each one's) and ``output_dir``
    its folder, where the manifest, ``.cache/`` and ``clips/`` go."""

    output_dir: Path
    video: Path
    state: StatePaths
    offline: bool
    pipeline_dir: Path  # the pipeline file's folder: deliverable paths are relative to it

    @classmethod
    def for_pipeline(cls, loaded: LoadedPipeline, *, offline: bool) -> Workspace:
        path = loaded.path
        relative = Path(loaded.pipeline.deliverables[0].path)
        output_dir = (path.parent / relative).parent
        if offline:
            output_dir = output_dir / "offline"
        state = StatePaths.for_pipeline(path, offline=offline)
        return cls(output_dir, output_dir / relative.name, state, offline, path.parent)

    def deliverable_video(self, spec: DeliverableSpec, *, drafts: bool = False) -> Path:
        """Where the video of deliverable ``spec`` goes: its ``path`` beside the pipeline file
        (an offline preview's in an ``offline/`` folder beside it); made from drafts, named
        ``<stem>.draft.mp4`` (``film.draft.mp4``)."""
        relative = Path(spec.path)
        folder = self.pipeline_dir / relative.parent
        video = (folder / "offline" if self.offline else folder) / relative.name
        return video.with_name(f"{video.stem}.draft{video.suffix}") if drafts else video

    @property
    def manifest(self) -> Path:
        return self.output_dir / "manifest.json"

    @property
    def cache_dir(self) -> Path:
        """The caches of the clip store and the assembly (the store's ``cache_dir`` too)."""
        return self.output_dir / CACHE_DIR_NAME

    @property
    def contact_sheet(self) -> Path:
        """Where the assembly writes the video's contact sheet, when it writes one."""
        return contact_sheet_path(self.video)

    def make_folders(self) -> None:
        """Make the output folder and its ``.cache/`` where missing, each one made with a
        ``.gitignore`` of ``*``; a folder that exists is left as it is (one ``stat`` each).

        Called before a command writes anything there, so that no other write makes them
        first without one (``clips/`` is made by the clip store, the same way).
        """
        make_ignored_folder(self.cache_dir)

    def check_writable(self, prepared: PreparedPipeline) -> None:
        """Refuse a run of ``prepared`` now, before anything is sent (and before the state
        folder is made), when a write it makes would fail: every path of
        :meth:`written_folders` and :meth:`written_files`.

        A file at one of the folders or above it, a folder where one of the files goes, or a
        folder this user cannot write or make raises the :class:`OSError` the write would
        raise (``ENOTDIR`` naming the file in the way, ``EISDIR`` naming the folder, ``EROFS``
        or ``EACCES`` naming the folder that cannot be made or written in); the CLI says it in
        one paragraph.
        """
        _check_folders(self.written_folders(prepared))
        for path in self.written_files(prepared):
            if path.is_dir():
                raise _os_error(errno.EISDIR, path)

    def written_folders(self, prepared: PreparedPipeline) -> list[Path]:
        """The folders a run of ``prepared`` makes or writes in: the state folder, the pipeline
        folder (the lock file), the output folder, its ``.cache/``, ``clips/`` (its
        ``.gitignore``), each shot's clip folder (``clips/<shot>/``: downloads, clips, last
        frames) and the folder of each deliverable written elsewhere."""
        shot_ids = dict.fromkeys(shot.id for shot in prepared.shots)  # a shot's takes share it
        clip_folders = [self.output_dir / clip_folder(shot_id) for shot_id in shot_ids]
        return [
            self.state.state_dir,
            self.state.lock_file.parent,
            self.output_dir,
            self.cache_dir,
            *dict.fromkeys(folder.parent for folder in clip_folders),  # clips/
            *clip_folders,
            *dict.fromkeys(  # each deliverable's, when it is not the output folder
                video.parent
                for spec in prepared.loaded.pipeline.deliverables
                if (video := self.deliverable_video(spec)).parent != self.output_dir
            ),
        ]

    def written_files(self, prepared: PreparedPipeline) -> list[Path]:
        """The files a run of ``prepared`` writes at the end: the lock file, the manifest, and
        for each deliverable its video, the caption files (when a shot has a caption) and the
        contact sheet it asks for."""
        files = [self.state.lock_file, self.manifest]
        captioned = any(shot.caption for shot in prepared.shots)
        for spec in prepared.loaded.pipeline.deliverables:
            video = self.deliverable_video(spec)
            files.append(video)
            if captioned:
                files += [caption_path(video, kind) for kind in spec.captions.sidecars]
            if spec.contact_sheet:
                files.append(contact_sheet_path(video))
        return files


def _check_folders(folders: Iterable[Path]) -> None:
    """Raise the :class:`OSError` that making one of ``folders`` (and its parents), or writing
    in it, would raise: ``ENOTDIR`` for a file (or a dangling link) at it or above it,
    ``EACCES`` or ``EROFS`` for a folder it would be made in, or that it is, that cannot be
    written. Each path is looked at once, however many of the folders share it."""
    seen: set[Path] = set()  # paths found to be folders
    for folder in folders:
        for path in (*reversed(folder.parents), folder):
            if path in seen:
                continue
            if not os.path.lexists(path):
                _check_can_write(path.parent, naming=path)  # mkdir would fail making ``path``
                break
            if not path.is_dir():
                raise _os_error(errno.ENOTDIR, path)
            seen.add(path)
        else:
            _check_can_write(folder, naming=folder)


def _check_can_write(folder: Path, *, naming: Path) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        code = errno.EROFS if on_read_only_filesystem(folder) else errno.EACCES
        raise _os_error(code, naming)


def _os_error(code: int, path: Path) -> OSError:
    """The error the system gives for ``code`` at ``path`` (``OSError`` picks the subclass)."""
    return OSError(code, os.strerror(code), str(path))
