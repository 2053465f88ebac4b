"""Local files at every place they are written, folders given as files, a reference listed
twice, and the per-shot totals of reference video and audio at the tenth shown."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from rdpipe.prepare.av_files import AvFile, av_problem
from rdpipe.prepare.media_checks import duration_problems
from rdpipe.prepare.pipeline import prepare_pipeline
from rdpipe.render import RenderedShot
from rdpipe.request import GenerationRequest, LocalFile
from rdpipe.session.hosting import hosting_problems, media_views, reference_names
from tests.pipeline.requests import HEAD, TAIL, Cli, Tree, errors_of

#: b.jpg holds face.jpg's bytes; b is defined before face, the portrait; shot c ends on
#: b.jpg, shots d and e start from k.png, also the reference k.
SAME_BYTES = (
    HEAD + "send_images_as: hosted\n"
    "references:\n"
    "  b: {image: refs/b.jpg}\n"
    "  face: {image: refs/face.jpg, asset: true}\n"
    "  k: {image: refs/k.png}\n"
    "shots:\n"
    "  - {id: a, prompt: '@image1 smiles', references: [face]}\n"
    "  - {id: b, prompt: '@image1 waves at @image2', references: [b, k]}\n"
    "  - {id: c, prompt: 'ends here', last_frame: refs/b.jpg}\n"
    "  - {id: d, prompt: 'starts here', first_frame: refs/k.png}\n"
    "  - {id: e, prompt: 'starts again', first_frame: refs/k.png}\n"
)


def _same_bytes_tree(make_tree: Tree) -> Path:
    root = make_tree(
        {"sb.yaml": SAME_BYTES, "refs/face.jpg": ("image", (400, 400), "JPEG"),
         "refs/k.png": ("image", (400, 300))}
    )  # fmt: skip
    (root / "refs" / "b.jpg").write_bytes((root / "refs" / "face.jpg").read_bytes())
    return root


def test_local_files_lists_every_place_in_file_order(make_tree: Tree) -> None:
    """Each reference definition once, each frame once per shot, in file order: the same
    bytes at two places are two entries."""
    root = _same_bytes_tree(make_tree)
    prepared = prepare_pipeline(root / "sb.yaml", cwd=root)
    assert [(f.where, f.file.shown, f.file.send_as) for f in prepared.local_files] == [
        (("references", "b", "image"), "refs/b.jpg", "hosted"),
        (("references", "face", "image"), "refs/face.jpg", "asset"),
        (("references", "k", "image"), "refs/k.png", "hosted"),
        (("shots", 2, "last_frame"), "refs/b.jpg", "hosted"),
        (("shots", 3, "first_frame"), "refs/k.png", "hosted"),
        (("shots", 4, "first_frame"), "refs/k.png", "hosted"),
    ]


def test_the_hosting_check_names_every_place_of_a_refused_file(make_tree: Tree) -> None:
    """A refused extension with no store is reported at each place the file is written,
    the last frame holding a portrait's bytes included."""
    root = _same_bytes_tree(make_tree)
    prepared = prepare_pipeline(root / "sb.yaml", cwd=root)
    problems = hosting_problems(prepared, {"jpg": "unsupported file type: jpg"}, remote=None)
    assert [(p.file, p.line, p.field) for p in problems] == [
        ("sb.yaml", 6, "references.b.image"),
        ("sb.yaml", 7, "references.face.image"),
        ("sb.yaml", 12, "shots[2].last_frame"),
    ]


def test_each_reference_shows_under_its_own_name(make_tree: Tree, cli: Cli) -> None:
    """plan's Local media rows: each reference by its own name, a frame as a frame (a path
    several shots start from once); the portrait's bytes are known by the portrait's name."""
    root = _same_bytes_tree(make_tree)
    prepared = prepare_pipeline(root / "sb.yaml", cwd=root)
    views = [(v.name, v.file, v.how) for v in media_views(prepared, None, "relay.example")]
    assert views == [
        ("b", "refs/b.jpg", "to upload"),
        ("face", "refs/face.jpg", "to register"),
        ("k", "refs/k.png", "to upload"),
        (None, "refs/b.jpg", "to upload"),
        (None, "refs/k.png", "to upload"),
    ]
    md5 = hashlib.md5((root / "refs" / "face.jpg").read_bytes()).hexdigest()
    assert reference_names(prepared)[md5] == "face"
    result = cli("plan", "sb.yaml", "--no-remote")
    assert result.exit_code == 0, result.stderr
    table = result.stdout[result.stdout.index("Local media") :]
    rows = [line.split("│")[1:3] for line in table.splitlines() if "refs/" in line]
    assert [(name.strip(), file.strip()) for name, file in rows] == [
        ("b", "refs/b.jpg"),
        ("face", "refs/face.jpg"),
        ("k", "refs/k.png"),
        ("(frame)", "refs/b.jpg"),
        ("(frame)", "refs/k.png"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "references:\n  v: {image: refs/x}\nshots:\n  - {id: a, prompt: x, references: [v]}\n",
            "sb.yaml:5:14: references.v.image: 'refs/x' is a folder, not a file",
        ),
        (
            "references:\n  v: {video: refs/x}\nshots:\n  - {id: a, prompt: x, references: [v]}\n",
            "sb.yaml:5:14: references.v.video: 'refs/x' is a folder, not a file",
        ),
        (
            "shots:\n  - {id: a, prompt: x, first_frame: refs/x}\n",
            "sb.yaml:5:37: shots[0].first_frame: 'refs/x' is a folder, not a file",
        ),
    ],
)
def test_a_folder_is_not_a_file(make_tree: Tree, cli: Cli, text: str, expected: str) -> None:
    """A reference or frame naming a folder says so (it read 'not found')."""
    make_tree({"sb.yaml": HEAD + text, "refs/x/inside.txt": "a file in the folder"})
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2, result.stdout
    assert result.stderr == "error: " + expected + TAIL


def test_a_folder_given_as_audio(make_tree: Tree, cli: Cli) -> None:
    make_tree(
        {"sb.yaml": HEAD + "references:\n  s: {audio: refs/x}\n  k: {image: refs/k.png}\n"
         "shots:\n  - {id: a, prompt: x, references: [k, s]}\n",
         "refs/x/inside.txt": "a file in the folder", "refs/k.png": ("image", (400, 400))}
    )  # fmt: skip
    assert errors_of(cli) == ["sb.yaml:5:14: references.s.audio: 'refs/x' is a folder, not a file"]


def test_a_reference_listed_twice_in_a_shot_is_an_error(make_tree: Tree, cli: Cli) -> None:
    """references: [i, i] would send the picture twice: an error at the second entry."""
    make_tree(
        {"sb.yaml": HEAD + "references:\n  i: {image: refs/i.png}\n  j: {image: refs/j.png}\n"
         "shots:\n  - {id: a, prompt: '@image1 and @image2', references: [i, j, i]}\n",
         "refs/i.png": ("image", (400, 400)), "refs/j.png": ("image", (400, 300))}
    )  # fmt: skip
    assert errors_of(cli) == [
        "sb.yaml:8:63: shots[0].references[2]: 'i' is listed twice; each reference is sent once "
        "(cite it as often as you like in the prompt)"
    ]


VIDEO = LocalFile(
    kind="video",
    role="reference_video",
    path=Path("/films/refs/a.mp4"),
    shown="refs/a.mp4",
    size=1000,
    md5="0" * 32,
    sha256="ab" * 32,
    extension="mp4",
    content_type="video/mp4",
    send_as="hosted",
    duration=5.0,
)


def _shot(*durations: float, kind: str = "video") -> RenderedShot:
    files = [
        dataclasses.replace(
            VIDEO,
            kind="audio" if kind == "audio" else "video",
            role="reference_audio" if kind == "audio" else "reference_video",
            shown=f"refs/{name}.mp4",
            sha256=f"{index:064x}",
            duration=seconds,
        )
        for index, (name, seconds) in enumerate(zip("abc", durations, strict=False))
    ]
    request = GenerationRequest(model="m", prompt="x", seconds="5").with_content(files)
    return RenderedShot(index=0, id="a", request=request)


def _messages(shot: RenderedShot) -> list[str]:
    return [problem.message for problem in duration_problems(shot)]


@pytest.mark.parametrize("kind", ["video", "audio"])
def test_a_shots_total_is_compared_at_the_tenth_it_shows(kind: str) -> None:
    """Three files of 5.04 s last 15.12 s, shown 15.1 s: refused (each showed 5.0 s and the
    tenths added up to 15.0 s); the figures of the files add up to the total shown."""
    assert _messages(_shot(5.04, 5.04, 5.04, kind=kind)) == [
        f"the reference {kind} files 'refs/a.mp4' (5.04 s), 'refs/b.mp4' (5.04 s) and "
        f"'refs/c.mp4' (5.04 s) last 15.1 s together; a shot may carry at most 15 s of "
        f"reference {kind}"
    ]
    assert _messages(_shot(8.0, 9.0, kind=kind)) == [
        f"the reference {kind} files 'refs/a.mp4' (8.0 s) and 'refs/b.mp4' (9.0 s) last 17.0 s "
        f"together; a shot may carry at most 15 s of reference {kind}"
    ]


@pytest.mark.parametrize(
    "durations", [(7.5, 7.5), (5.0, 5.0, 5.0), (5.01, 5.01, 5.02), (4.9, 5.05, 5.05)]
)
def test_a_total_shown_as_15_s_passes(durations: tuple[float, ...]) -> None:
    assert _messages(_shot(*durations)) == []


def test_a_single_file_is_judged_at_the_tenth_it_shows() -> None:
    """15.01 s shows as 15.0 s and passes; 15.06 s shows as 15.1 s and is refused; 1.96 s
    shows as 2.0 s and passes."""

    def problem(seconds: float) -> str | None:
        return av_problem(AvFile("mp4", "h264", None, seconds), "video", "refs/a.mp4")

    assert problem(15.01) is None
    assert problem(1.96) is None
    assert problem(15.06) == ("'refs/a.mp4' lasts 15.1 s; a reference video may last at most 15 s")
