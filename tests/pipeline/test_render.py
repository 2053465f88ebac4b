"""Templating: variables and their precedence, ref() numbering, includes and the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from rdpipe.prepare.pipeline import prepare_pipeline
from tests.pipeline.requests import HEAD


def prompts(path: Path, **cli_vars: object) -> dict[str, str]:
    prepared = prepare_pipeline(path, cli_vars=cli_vars)
    return {shot.id: shot.request.prompt for shot in prepared.shots}


def test_variable_precedence(make_tree: Callable[[dict[str, object]], Path]) -> None:
    """Pipeline vars < shot vars < --set: the later one wins."""
    make_tree(
        {
            "sb.yaml": HEAD + "vars: {who: keeper, mood: calm}\nshots:\n"
            "  - {id: a, prompt: '{{ who }} {{ mood }}'}\n"
            "  - {id: b, prompt: '{{ who }} {{ mood }}', vars: {who: sailor}}\n"
        }
    )
    assert prompts(Path("sb.yaml")) == {"a": "keeper calm", "b": "sailor calm"}
    assert prompts(Path("sb.yaml"), mood="stormy", who="ghost") == {
        "a": "ghost stormy",
        "b": "ghost stormy",
    }


def test_set_option_on_the_command_line(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """--set name=value reaches the templates; a malformed --set is a usage error."""
    make_tree({"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: 'hello {{ who }}'}\n"})
    result = cli("plan", "sb.yaml", "--json", "--set", "who=world")
    assert '"prompt": "hello world"' in result.stdout
    bad = cli("plan", "sb.yaml", "--set", "who")
    assert bad.exit_code == 2
    assert "--set 'who' is not of the form name=value" in bad.stderr


def test_ref_numbers_each_kind_in_content_order(
    make_tree: Callable[[dict[str, object]], Path],
) -> None:
    """Mixed references render @image1, @video1, @image2, @audio1 in the order carried."""
    make_tree(
        {
            "sb.yaml": HEAD + "references:\n"
            "  a: {image: https://e.com/a.png}\n  v: {video: https://e.com/v.mp4}\n"
            "  b: {image: https://e.com/b.png}\n  s: {audio: https://e.com/s.mp3}\n"
            "shots:\n  - id: x\n    references: [a, v, b, s]\n"
            "    prompt: \"{{ ref('b') }} {{ ref('a') }} {{ ref('s') }} {{ ref('v') }}\"\n"
        }
    )
    prepared = prepare_pipeline(Path("sb.yaml"))
    request = prepared.shots[0].request
    assert request.prompt == "@image2 @image1 @audio1 @video1"
    assert [(e.kind, e.role) for e in request.metadata.content] == [
        ("image", "reference_image"),
        ("video", "reference_video"),
        ("image", "reference_image"),
        ("audio", "reference_audio"),
    ]


def test_include_merges_and_resolves_paths_from_the_included_file(
    make_tree: Callable[[dict[str, object]], Path],
) -> None:
    """Included vars, references and shots merge in; their paths are relative to their file."""
    make_tree(
        {
            "sb.yaml": HEAD + "include: [kit/brand.yaml]\nvars: {tone: warm}\nshots:\n"
            "  - {id: main, prompt: '{{ brand }} {{ tone }}', references: [logo]}\n",
            "kit/brand.yaml": "vars: {brand: Acme, tone: cold}\n"
            "references:\n  logo: {image: logo.png}\n"
            "shots:\n  - {id: intro, prompt: 'intro {{ brand }}'}\n",
            "kit/logo.png": ("image", (400, 400)),
        }
    )
    prepared = prepare_pipeline(Path("sb.yaml"))
    assert [s.id for s in prepared.shots] == ["intro", "main"]
    assert prepared.shots[1].request.prompt == "Acme warm"
    url = prepared.shots[1].request.metadata.content[0].url
    assert url.startswith("data:image/png;base64,")


def test_include_cycle_is_reported(
    make_tree: Callable[[dict[str, object]], Path], cli: Callable[..., Result]
) -> None:
    """Files that include each other give a located error instead of recursing forever."""
    make_tree(
        {
            "sb.yaml": HEAD + "include: [a.yaml]\nshots:\n  - {id: a, prompt: x}\n",
            "a.yaml": "include: [sb.yaml]\n",
        }
    )
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert "a.yaml:1:11: include[0]: includes itself" in result.stderr


def test_sandbox_refuses_escapes(make_tree: Callable[[dict[str, object]], Path]) -> None:
    """Attribute walking to globals, imports and file reads are refused in templates."""
    from rdpipe.errors import PipelineInvalid

    attempts = [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ref.__globals__ }}",
        "{{ self.__init__.__globals__['os'] }}",
        "{% include '/etc/passwd' %}",
        "{{ cycler.__init__.__globals__.os.environ }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
    ]
    body = "".join(f'  - id: s{i}\n    prompt: "{a}"\n' for i, a in enumerate(attempts))
    make_tree({"sb.yaml": HEAD + "shots:\n" + body})
    try:
        prepare_pipeline(Path("sb.yaml"))
    except PipelineInvalid as error:
        assert len(error.diagnostics) == len(attempts)
        assert all(d.field.endswith(".prompt") for d in error.diagnostics)
        assert "root:" not in str(error) and "uid=" not in str(error)
    else:
        raise AssertionError("sandbox escapes were rendered")


def test_identical_requests_share_a_key(make_tree: Callable[[dict[str, object]], Path]) -> None:
    """Two shots with the same final request have one key; the plan generates only the first."""
    from rdpipe.plan import Action, plan_run

    make_tree(
        {
            "sb.yaml": HEAD + "vars: {x: sea}\nshots:\n  - {id: a, prompt: '{{ x }}'}\n"
            "  - {id: b, prompt: sea}\n  - {id: c, prompt: sky}\n"
        }
    )
    prepared = prepare_pipeline(Path("sb.yaml"))
    plan = plan_run(prepared.name, prepared.shots)
    assert [job.action for job in plan.jobs] == [Action.GENERATE, Action.REUSE, Action.GENERATE]
    assert plan.jobs[0].key == plan.jobs[1].key != plan.jobs[2].key
    assert plan.generations == 2
