"""Each validation rule, shown by a bad file and the exact message a user reads (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.pipeline.requests import HEAD, TAIL

CASES: dict[str, tuple[dict[str, object], str]] = {
    "yaml syntax": (
        {"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n    seconds: [unclosed\n"},
        "sb.yaml:8:1: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence)",
    ),
    "duplicate key": (
        {"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n    prompt: y\n"},
        "sb.yaml:7:5: shots[0].prompt: key 'prompt' is given twice; the second would silently win",
    ),
    "unknown key with did-you-mean": (
        {"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n    secnds: 4\n"},
        "sb.yaml:7:5: shots[0].secnds: unknown key 'secnds'; did you mean 'seconds'?",
    ),
    "wrong type": (
        {"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n    seconds: five\n"},
        "sb.yaml:7:14: shots[0].seconds: 'five' is not a whole number",
    ),
    "missing field": (
        {"sb.yaml": HEAD + "shots:\n  - id: a\n"},
        "sb.yaml:5:5: shots[0].prompt: is required but missing",
    ),
    "ratio not allowed": (
        {"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n    ratio: '17:9'\n"},
        "sb.yaml:7:12: shots[0].ratio: '17:9' is not allowed; use one of '16:9', '9:16', "
        "'1:1', '4:3', '3:4', '21:9' or 'adaptive'",
    ),
    "shot id unsafe as a file name": (
        {"sb.yaml": HEAD + "shots:\n  - id: ../etc\n    prompt: x\n"},
        "sb.yaml:5:9: shots[0].id: '../etc' is not a valid name: use letters, digits, '-' and "
        "'_', starting with a letter or digit (at most 64; it names files and is used in "
        "templates)",
    ),
    "duplicate shot id": (
        {"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x}\n  - {id: A, prompt: y}\n"},
        "sb.yaml:6:10: shots[1].id: shot id 'A' is already used by shots[0] (ids name clip "
        "files, so they must differ even ignoring case)",
    ),
    "undefined variable": (
        {"sb.yaml": HEAD + "vars: {keeper: k}\nshots:\n  - {id: a, prompt: '{{ keepr }}'}\n"},
        "sb.yaml:6:21: shots[0].prompt: 'keepr' is undefined; did you mean 'keeper'?",
    ),
    "template syntax": (
        {"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: '{{ x '}\n"},
        "sb.yaml:5:21: shots[0].prompt: template syntax error: unexpected end of template, "
        "expected 'end of print statement'. (template line 1)",
    ),
    "sandbox": (
        {"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: \"{{ ''.__class__ }}\"}\n"},
        "sb.yaml:5:21: shots[0].prompt: not allowed in a template: access to attribute "
        "'__class__' of 'str' object is unsafe.",
    ),
    "seconds above the model maximum": (
        {"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n    seconds: 20\n"},
        "sb.yaml:7:14: shots[0].seconds: 20 is above the 15 s maximum of doubao-seedance-2-0-720p",
    ),
    "seconds from defaults names the shot": (
        {"sb.yaml": HEAD + "defaults: {seconds: 2}\nshots:\n  - {id: a, prompt: x}\n"},
        "sb.yaml:4:21: defaults.seconds: 2 is below the 4 s minimum of "
        "doubao-seedance-2-0-720p (shot 'a')",
    ),
    "resolution fixed by the model id": (
        {"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, resolution: 1080p}\n"},
        "sb.yaml:5:36: shots[0].resolution: 1080p is not offered by doubao-seedance-2-0-720p "
        "(for Seedance 2.0 the resolution is part of the model id: 720p)",
    ),
    "audio fixed by the model id": (
        {
            "sb.yaml": "version: 1\nname: d\nmodel: seedance-1-5-pro-no-audio\n"
            "shots:\n  - {id: a, prompt: x, generate_audio: true}\n"
        },
        "sb.yaml:5:40: shots[0].generate_audio: seedance-1-5-pro-no-audio never has audio; "
        "choose the -with-audio or -no-audio model instead",
    ),
    "too many images": (
        {
            "sb.yaml": HEAD
            + "references:\n"
            + "".join(f"  r{i}: {{image: https://e.com/{i}.png}}\n" for i in range(10))
            + "shots:\n  - id: a\n    prompt: x\n    references: ["
            + ", ".join(f"r{i}" for i in range(10))
            + "]\n"
        },
        "sb.yaml:18:17: shots[0].references: 10 image references; the API takes at most 9",
    ),
    "audio needs an image or video": (
        {
            "sb.yaml": HEAD + "references:\n  s: {audio: https://e.com/s.mp3}\n"
            "shots:\n  - {id: a, prompt: x, references: [s]}\n"
        },
        "sb.yaml:7:36: shots[0].references: audio references need an image or video "
        "reference in the same shot",
    ),
    "citation beyond what the shot carries": (
        {
            "sb.yaml": HEAD + "references:\n  k: {image: https://e.com/k.png}\n"
            "shots:\n  - {id: a, prompt: '@image1 and @image2', references: [k]}\n"
        },
        "sb.yaml:7:21: shots[0].prompt: @image2 is cited but the shot carries only 1 image "
        "reference",
    ),
    "ref of a reference the shot does not carry": (
        {
            "sb.yaml": HEAD + "references:\n  k: {image: https://e.com/k.png}\n"
            "shots:\n  - {id: a, prompt: \"{{ ref('k') }}\"}\n"
        },
        "sb.yaml:7:21: shots[0].prompt: ref('k'): this shot does not carry that reference "
        "(add it to the shot's references:; it carries: none)\n"
        "sb.yaml:5:6: references.k: warning: reference 'k' is not used by any shot",
    ),
    "unknown reference name": (
        {
            "sb.yaml": HEAD + "references:\n  keeper: {image: https://e.com/k.png}\n"
            "shots:\n  - {id: a, prompt: x, references: [keepr]}\n"
        },
        "sb.yaml:7:37: shots[0].references[0]: no reference named 'keepr'; did you mean "
        "'keeper'?\n"
        "sb.yaml:5:11: references.keeper: warning: reference 'keeper' is not used by any shot",
    ),
    "frames mixed with references": (
        {
            "sb.yaml": HEAD + "references:\n  k: {image: https://e.com/k.png}\n"
            "shots:\n  - id: a\n    prompt: x\n    references: [k]\n"
            "    first_frame: https://e.com/f.png\n"
        },
        "sb.yaml:9:17: shots[0].references: first_frame/last_frame cannot be combined with "
        "references (the API rejects the mix); use one or the other",
    ),
    "local image missing": (
        {"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: refs/none.png}\n"},
        "sb.yaml:5:37: shots[0].first_frame: image file 'refs/none.png' not found (looked at "
        "{root}/refs/none.png)",
    ),
    "image too small": (
        {
            "sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: s.png}\n",
            "s.png": ("image", (200, 400)),
        },
        "sb.yaml:5:37: shots[0].first_frame: 's.png' (200x400): width 200 px is outside "
        "300-6000 px",
    ),
    "image aspect ratio": (
        {
            "sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: wide.png}\n",
            "wide.png": ("image", (1800, 600)),
        },
        "sb.yaml:5:37: shots[0].first_frame: 'wide.png' (1800x600): aspect ratio 3.00 is "
        "outside 0.4-2.5",
    ),
    "image format": (
        {
            "sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: f.ico}\n",
            "f.ico": ("image", (320, 320), "ICO"),
        },
        "sb.yaml:5:37: shots[0].first_frame: 'f.ico' is ICO; use jpeg, png, webp, bmp, tiff, gif",
    ),
    "not an image": (
        {
            "sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: notes.png}\n",
            "notes.png": "just text",
        },
        "sb.yaml:5:37: shots[0].first_frame: 'notes.png' is not an image rdpipe can read",
    ),
    "image outside the pipeline folder": (
        {
            "sub/sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: ../out.png}\n",
            "out.png": ("image", (400, 400)),
        },
        "sub/sb.yaml:5:37: shots[0].first_frame: '../out.png' is outside the pipeline's "
        "folder {root}/sub; move it inside or pass --allow-outside-files if you trust this "
        "pipeline",
    ),
    "local video missing": (
        {
            "sb.yaml": HEAD + "references:\n  v: {video: clip.mp4}\n"
            "shots:\n  - {id: a, prompt: x, references: [v]}\n"
        },
        "sb.yaml:5:14: references.v.video: video file 'clip.mp4' not found (looked at "
        "{root}/clip.mp4)",
    ),
    "video as a data URL": (
        {
            "sb.yaml": HEAD + "references:\n  v: {video: 'data:video/mp4;base64,AAAA'}\n"
            "shots:\n  - {id: a, prompt: x, references: [v]}\n"
        },
        "sb.yaml:5:14: references.v.video: a data URL cannot carry video: the API takes video "
        "only by URL; write the path of a local file or an http(s) URL",
    ),
    "file URLs refused": (
        {"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: 'file:///etc/passwd'}\n"},
        "sb.yaml:5:37: shots[0].first_frame: 'file:///etc/passwd': only http(s) and data: URLs "
        "or local files",
    ),
    "continuity to an unknown shot": (
        {
            "sb.yaml": HEAD + "shots:\n  - {id: day, prompt: x}\n"
            "  - {id: night, prompt: y, first_frame: {shot: dya}}\n"
        },
        "sb.yaml:6:48: shots[1].first_frame.shot: no shot with id 'dya'; did you mean 'day'?",
    ),
    "output path escapes": (
        {"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x}\noutput: {path: ../../x.mp4}\n"},
        "sb.yaml:6:16: output.path: '../../x.mp4' must be a file path inside the pipeline's "
        "folder (relative, without '..')",
    ),
    "include not found": (
        {"sb.yaml": HEAD + "include: [shared.yaml]\nshots:\n  - {id: a, prompt: x}\n"},
        "sb.yaml:4:11: include[0]: included file 'shared.yaml' not found (paths are relative "
        "to sb.yaml)",
    ),
    "error inside an included file": (
        {
            "sb.yaml": HEAD + "include: [kit/shared.yaml]\nshots:\n  - {id: a, prompt: x}\n",
            "kit/shared.yaml": "vars: {a: 1}\ndefaults:\n  ratio: wide\n",
        },
        "kit/shared.yaml:3:10: defaults.ratio: 'wide' is not allowed; use one of '16:9', "
        "'9:16', '1:1', '4:3', '3:4', '21:9' or 'adaptive'",
    ),
    "metadata may not set request fields": (
        {"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, metadata: {ratio: '1:1'}}\n"},
        "sb.yaml:5:34: shots[0].metadata: set ratio as a shot field, not inside metadata "
        "(content is built from references and frames)",
    ),
    "no model anywhere": (
        {"sb.yaml": "version: 1\nname: d\nshots:\n  - {id: a, prompt: x}\n"},
        "sb.yaml:4:5: shots[0]: no model: set model: at the top of the file, in defaults or here",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_rule_reports_exact_message(
    case: str, make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """A file breaking one rule exits 2 with exactly one located, actionable message."""
    files, expected = CASES[case]
    root = make_tree(files)
    pipeline = next(name for name in files if name.endswith("sb.yaml"))
    result = cli("validate", pipeline)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: " + expected.format(root=root.resolve()) + TAIL


def test_all_errors_reported_at_once(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """Several problems in one file are all listed, in file order, in a single run."""
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, seconds: 30}\n"
            "  - {id: b, prompt: '{{ nope }}'}\n  - {id: c, prompt: x, resolution: 480p}\n"
        }
    )
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    lines = result.stderr.removeprefix("error: ").splitlines()
    assert [line.split(": ")[1] for line in lines[:3]] == [
        "shots[0].seconds",
        "shots[1].prompt",
        "shots[2].resolution",
    ]
    assert lines[-1] == "3 errors; nothing was sent to the API."


def test_unknown_model_is_a_warning(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """A model id missing from the catalog warns (new models appear) but the file is valid."""
    make_tree(
        {"sb.yaml": "version: 1\nname: d\nmodel: seedance-3-0-8k\nshots:\n  - {id: a, prompt: x}\n"}
    )
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 0
    assert (
        "sb.yaml:3:8: model: warning: model 'seedance-3-0-8k' is not in rdpipe's catalog"
        in result.stderr
    )
    assert result.stdout == "sb.yaml: OK (1 shot)\n"


def test_allow_outside_files(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """--allow-outside-files lets a trusted pipeline use an image from a parent folder."""
    make_tree(
        {
            "sub/sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x, first_frame: ../out.png}\n",
            "out.png": ("image", (400, 400)),
        }
    )
    assert cli("validate", "sub/sb.yaml").exit_code == 2
    assert cli("validate", "sub/sb.yaml", "--allow-outside-files").exit_code == 0


def test_missing_pipeline_file(cli: Callable[..., Result], tmp_path: Path) -> None:
    """A pipeline path that does not exist is a usage error, exit 2, no traceback."""
    result = cli("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "no such pipeline file" in result.stderr
