"""What the file says is what is sent: scalars as written, YAML merge keys and documents,
variables that use variables, tag-only lines, literal braces, and no stray template syntax.

Each test asserts the exact request body (``rdpipe plan --json`` prints it as it is POSTed)
or the exact message a user reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rdpipe.load.overrides import parse_set_options
from rdpipe.prepare.pipeline import prepare_pipeline
from tests.pipeline.requests import HEAD, Cli, Tree, bodies, error_of


def test_issue_example_posts_every_scalar_as_written(make_tree: Tree, cli: Cli) -> None:
    """``16:9``, ``12:30``, ``no`` and ``0755`` reach the request as typed, id ``no`` included."""
    make_tree(
        {
            "sb.yaml": HEAD + "defaults: {seconds: 5, ratio: 16:9}\n"
            "vars: {clock: 12:30, answer: no, code: 0755}\n"
            "shots:\n  - id: no\n"
            '    prompt: "The clock shows {{ clock }}; she says {{ answer }}; '
            'door code {{ code }}"\n'
        }
    )
    assert bodies(cli) == {
        "no": {
            "model": "doubao-seedance-2-0-720p",
            "prompt": "The clock shows 12:30; she says no; door code 0755",
            "seconds": "5",
            "metadata": {"ratio": "16:9"},
        }
    }


def test_text_fields_take_typed_scalars_as_written(make_tree: Tree, cli: Cli) -> None:
    """A prompt, id, caption and frame path that YAML reads as numbers stay the text written."""
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n"
            "  - {id: 007, prompt: 1.50, caption: 0x1F}\n"
            "  - {id: 1e3, prompt: 12:30:00, caption: true}\n",
        }
    )
    prepared = prepare_pipeline(Path("sb.yaml"))
    assert [(s.id, s.request.prompt, s.caption) for s in prepared.shots] == [
        ("007", "1.50", "0x1F"),
        ("1e3", "12:30:00", "true"),
    ]


def test_numbers_and_booleans_stay_typed_where_expected(make_tree: Tree, cli: Cli) -> None:
    """``seconds: 0x8`` is 8 and ``generate_audio: false`` is false; ``takes`` counts."""
    make_tree(
        {
            "sb.yaml": HEAD + "defaults: {generate_audio: false}\n"
            "shots:\n  - {id: a, prompt: x, seconds: 0x8, takes: 2, seeds: [1, 0o17]}\n"
        }
    )
    assert bodies(cli) == {
        "a": {
            "model": "doubao-seedance-2-0-720p",
            "prompt": "x",
            "seconds": "8",
            "metadata": {"generate_audio": False, "seed": 1},
        },
        "a#2": {
            "model": "doubao-seedance-2-0-720p",
            "prompt": "x",
            "seconds": "8",
            "metadata": {"generate_audio": False, "seed": 15},
        },
    }


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    seconds: 0x3D\n", "sb.yaml:7:14: shots[0].seconds: 0x3D is above the maximum of 60"),
        ("    seconds: 1e3\n", "sb.yaml:7:14: shots[0].seconds: 1e3 is not a whole number"),
        ("    seconds: 4.50\n", "sb.yaml:7:14: shots[0].seconds: 4.50 is not a whole number"),
        (
            "    ratio: 1.50\n",
            "sb.yaml:7:12: shots[0].ratio: 1.50 is not allowed; use one of '16:9', '9:16', "
            "'1:1', '4:3', '3:4', '21:9' or 'adaptive'",
        ),
        (
            "    resolution: 0720\n",
            "sb.yaml:7:17: shots[0].resolution: 0720 is not allowed; use one of '480p', "
            "'720p' or '1080p'",
        ),
        ("    takes: 0o0\n", "sb.yaml:7:12: shots[0].takes: 0o0 is below the minimum of 1"),
        (
            "    generate_audio: 2\n",
            "sb.yaml:7:21: shots[0].generate_audio: 2 is not true or false",
        ),
    ],
)
def test_messages_quote_what_was_written(
    line: str, expected: str, make_tree: Tree, cli: Cli
) -> None:
    """An invalid typed value is quoted as the user wrote it, never as YAML converted it."""
    make_tree({"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n" + line})
    assert error_of(cli) == expected


def test_set_values_read_as_written(make_tree: Tree, cli: Cli) -> None:
    """``--set`` values render as typed and keep their type in template tests."""
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: "
            '"{{ clock }} {{ code }} {% if night %}night{% else %}day{% endif %}"\n'
        }
    )
    body = bodies(cli, "--set", "clock=12:30", "--set", "code=0755", "--set", "night=false")
    assert body["a"]["prompt"] == "12:30 0755 day"
    assert parse_set_options(["n=TRUE", "x=", "y=~"]) == {"n": True, "x": "", "y": "~"}


# Scalars that YAML 1.1 (PyYAML's default) reads as something other than the text written.
YAML11_IMPLICIT = [
    "12:30", "1:02:03", "190:20:30.15", "-1:30",  # sexagesimal times
    "yes", "No", "ON", "off", "y", "n", "True", "FALSE",  # booleans
    "0755", "010", "0o17", "0x1F", "0b1010", "+12", "1_000", "-0",  # integers
    "1.50", "1e3", ".5", "6.8523015e+5", "685.230_15e+03", "1.", "-.inf", ".NaN",  # floats
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2002-12-14 21:59:43.10",  # timestamps
    "~", "null", "NULL", "Null",  # nulls
    "=", "<<x",  # value and merge look-alikes
]  # fmt: skip

_digits = st.text("0123456789", min_size=1, max_size=4)
generated_scalars = st.one_of(
    st.sampled_from(YAML11_IMPLICIT),
    st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 99), st.integers(0, 59)),
    st.builds(lambda d: "0" + d, st.text("01234567", min_size=1, max_size=4)),
    st.builds(lambda a, b: f"{a}.{b}", _digits, _digits),
    st.builds(lambda a, e: f"{a}e{e}", _digits, st.integers(-9, 9)),
    st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
        st.integers(1900, 2100),
        st.integers(1, 12),
        st.integers(1, 28),
    ),
    st.sampled_from(["yes", "no", "true", "false", "on", "off"]).map(
        lambda word: "".join(c.upper() if i % 2 else c for i, c in enumerate(word))
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(scalars=st.lists(generated_scalars, min_size=1, max_size=4))
def test_any_implicit_scalar_reaches_the_prompt_as_written(
    scalars: list[str], make_tree: Tree
) -> None:
    """Plain scalars of every YAML 1.1 implicit type read as written: in vars, and as a
    prompt and a caption (where a null means "none", so it is not placed there)."""
    variables = "".join(f"  v{i}: {text}\n" for i, text in enumerate(scalars))
    cited = " | ".join(f"{{{{ v{i} }}}}" for i in range(len(scalars)))
    texts = [text for text in scalars if text not in NULLS] or ["12:30"]
    make_tree(
        {
            "sb.yaml": HEAD + "vars:\n" + variables + "shots:\n"
            f'  - id: a\n    prompt: "<{cited}>"\n'
            f"  - id: b\n    prompt: {texts[0]}\n    caption: {texts[-1]}\n"
        }
    )
    shots = {shot.id: shot for shot in prepare_pipeline(Path("sb.yaml")).shots}
    assert shots["a"].request.prompt == "<" + " | ".join(scalars) + ">"
    assert (shots["b"].request.prompt, shots["b"].caption) == (texts[0], texts[-1])


NULLS = {"~", "null", "NULL", "Null"}


def test_null_means_no_value(make_tree: Tree, cli: Cli) -> None:
    """``prompt: null`` is a missing prompt (not the word null); ``caption: ~`` is none."""
    make_tree({"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: null, caption: ~}\n"})
    assert error_of(cli) == "sb.yaml:5:21: shots[0].prompt: expected text, got nothing (null)"


HARBOUR = (
    HEAD + "vars:\n  mood: grey\n"
    '  look: "{{ mood }} light, handheld, 35mm"\n'
    "shots:\n  - id: wide\n"
    '    prompt: "Wide shot of a small harbour at dawn, {{ look }}"\n'
)


def test_variables_that_use_variables(make_tree: Tree, cli: Cli) -> None:
    """A variable's template renders first; ``--set`` wins in every variable that uses it."""
    make_tree({"sb.yaml": HARBOUR})
    assert bodies(cli)["wide"]["prompt"] == (
        "Wide shot of a small harbour at dawn, grey light, handheld, 35mm"
    )
    assert bodies(cli, "--set", "mood=stormy")["wide"]["prompt"] == (
        "Wide shot of a small harbour at dawn, stormy light, handheld, 35mm"
    )
    assert bodies(cli, "--set", "look={{ mood | upper }} haze")["wide"]["prompt"] == (
        "Wide shot of a small harbour at dawn, GREY haze"
    )


def test_variable_chains_across_pipeline_and_shot_vars(make_tree: Tree, cli: Cli) -> None:
    """A shot's own var feeds pipeline vars that use it, through a chain and a list."""
    make_tree(
        {
            "sb.yaml": HEAD + "vars:\n  who: a keeper\n"
            '  hero: "{{ who }} in {{ coat }}"\n  coat: "a {{ colour }} raincoat"\n'
            "  colour: yellow\n"
            '  beats: ["{{ hero }} waits", "{{ hero }} climbs"]\n'
            "shots:\n"
            "  - id: a\n    prompt: \"{{ beats | join('; ') }}\"\n"
            '  - id: b\n    vars: {colour: red}\n    prompt: "{{ hero }}"\n'
        }
    )
    assert {k: v["prompt"] for k, v in bodies(cli).items()} == {
        "a": "a keeper in a yellow raincoat waits; a keeper in a yellow raincoat climbs",
        "b": "a keeper in a red raincoat",
    }


def test_variable_cycle_names_every_member(make_tree: Tree, cli: Cli) -> None:
    """A cycle is reported at the line of each variable in it, and nothing is sent."""
    make_tree(
        {
            "sb.yaml": HEAD + "vars:\n"
            '  a: "{{ b }} one"\n  b: "{{ c }} two"\n  c: "{{ a }} three"\n  d: "{{ d }}"\n'
            'shots:\n  - {id: s, prompt: "Sea {{ a }}{{ d }}"}\n'
        }
    )
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: sb.yaml:5:6: vars.a: variable 'a' uses itself: a -> b -> c -> a\n"
        "sb.yaml:6:6: vars.b: variable 'b' uses itself: a -> b -> c -> a\n"
        "sb.yaml:7:6: vars.c: variable 'c' uses itself: a -> b -> c -> a\n"
        "sb.yaml:8:6: vars.d: variable 'd' uses itself: d -> d\n"
        "4 errors; nothing was sent to the API.\n"
    )


def test_undefined_name_inside_a_variable_points_at_the_variable(make_tree: Tree, cli: Cli) -> None:
    """A variable using an undefined name is reported where that variable is written."""
    make_tree({"sb.yaml": HARBOUR.replace("{{ mood }}", "{{ moood }}")})
    assert error_of(cli) == "sb.yaml:6:9: vars.look: 'moood' is undefined; did you mean 'mood'?"


def test_unrendered_template_syntax_never_reaches_a_request(make_tree: Tree, cli: Cli) -> None:
    """Template syntax a template prints (here from a string) is refused, naming the field."""
    make_tree(
        {
            "sb.yaml": HEAD + "vars: {tag: \"{{ '{{ mood }}' }}\"}\n"
            'shots:\n  - {id: a, prompt: "calm sea", metadata: {note: "{{ tag }}"}}\n'
        }
    )
    assert error_of(cli) == (
        "sb.yaml:6:50: shots[0].metadata.note: the text still holds template syntax after "
        "rendering ('{{ mood }}') and would be sent as written; to send braces on purpose, "
        "write them inside {% raw %}...{% endraw %}"
    )


@pytest.mark.parametrize(
    ("prompt", "sent"),
    [
        (
            "a sign that reads {% raw %}{{DAILY SPECIAL}}{% endraw %}",
            "a sign that reads {{DAILY SPECIAL}}",
        ),
        ("hashtag {% raw %}{#OceanDay}{% endraw %}", "hashtag {#OceanDay}"),
        ("{{ who }} holds {% raw %}{% sign %}{% endraw %}", "Ada holds {% sign %}"),
        ("a {single} brace and }} closing ones", "a {single} brace and }} closing ones"),
    ],
)
def test_literal_braces(prompt: str, sent: str, make_tree: Tree, cli: Cli) -> None:
    """Braces inside {% raw %} are sent as written; lone braces need no escape at all."""
    make_tree(
        {"sb.yaml": HEAD + "vars: {who: Ada}\nshots:\n  - id: a\n    prompt: " + json.dumps(prompt)}
    )
    assert bodies(cli)["a"]["prompt"] == sent


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (
            "a sign that reads {{DAILY SPECIAL}}",
            "template syntax error: expected token 'end of print statement', got 'SPECIAL' "
            "(template line 1). If the braces are meant as text, wrap them in raw tags: "
            "{% raw %}{{DAILY SPECIAL}}{% endraw %}",
        ),
        (
            "hashtag {#OceanDay}",
            "template syntax error: Missing end of comment tag (template line 1). If the "
            "braces are meant as text, wrap them in raw tags: {% raw %}{#OceanDay}{% endraw %}",
        ),
        (
            "a sign that reads {{SPECIAL}}",
            "'SPECIAL' is undefined; define it under vars:, in the shot's vars: or with "
            "--set SPECIAL=.... If the braces are meant as text, wrap them in raw tags: "
            "{% raw %}{{SPECIAL}}{% endraw %}",
        ),
    ],
)
def test_literal_braces_without_raw_say_how(
    prompt: str, expected: str, make_tree: Tree, cli: Cli
) -> None:
    """Braces meant as text fail with the way to send them literally."""
    make_tree({"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: " + json.dumps(prompt) + "\n"})
    assert error_of(cli) == "sb.yaml:6:13: shots[0].prompt: " + expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "    prompt: {{ opening }}\n",
            "sb.yaml:7:13: shots[0].prompt: a value that starts with '{{', '{%' or '{#' must "
            'be quoted, or YAML reads it as a mapping; write:  prompt: "{{ opening }}"',
        ),
        (
            "    prompt: {{ look }} shot of a harbour  # the opening\n",
            "sb.yaml:7:13: a value that starts with '{{', '{%' or '{#' must be quoted, or YAML "
            'reads it as a mapping; write:  prompt: "{{ look }} shot of a harbour"  # the opening',
        ),
        (
            "    prompt: {% if look %}{{ look }}{% endif %} harbour\n",
            "sb.yaml:7:13: a value that starts with '{{', '{%' or '{#' must be quoted, or YAML "
            'reads it as a mapping; write:  prompt: "{% if look %}{{ look }}{% endif %} harbour"',
        ),
        (
            '    prompt: {{ look }} says "hi"\n',
            "sb.yaml:7:13: a value that starts with '{{', '{%' or '{#' must be quoted, or YAML "
            "reads it as a mapping; write:  prompt: '{{ look }} says \"hi\"'",
        ),
    ],
)
def test_unquoted_template_says_to_quote(
    line: str, expected: str, make_tree: Tree, cli: Cli
) -> None:
    """A value starting with {{ or {% gets the quoting rule and the corrected line."""
    make_tree({"sb.yaml": HEAD + "vars: {opening: x, look: y}\nshots:\n  - id: a\n" + line})
    assert error_of(cli) == expected


def test_merge_keys_follow_the_spec(make_tree: Tree, cli: Cli) -> None:
    """``<<: *wide`` with its own id and prompt is a second shot; the keys written win."""
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n"
            '  - &wide {id: wide, prompt: "Wide shot of a harbour at dawn", seconds: 5}\n'
            "  - <<: *wide\n"
            "    id: wide-dusk\n"
            '    prompt: "Wide shot of a harbour at dusk"\n'
        }
    )
    assert bodies(cli) == {
        "wide": {
            "model": "doubao-seedance-2-0-720p",
            "prompt": "Wide shot of a harbour at dawn",
            "seconds": "5",
        },
        "wide-dusk": {
            "model": "doubao-seedance-2-0-720p",
            "prompt": "Wide shot of a harbour at dusk",
            "seconds": "5",
        },
    }


def test_merge_of_several_anchors_first_wins(make_tree: Tree, cli: Cli) -> None:
    """``<<: [*a, *b]`` takes a key from the first anchor that has it, under the keys written."""
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n"
            "  - &look {id: a, prompt: p, seconds: 6, ratio: '1:1'}\n"
            "  - &base {id: b, prompt: q, seconds: 4, ratio: '9:16', generate_audio: true}\n"
            "  - {<<: [*look, *base], id: c, generate_audio: false}\n"
        }
    )
    assert bodies(cli)["c"] == {
        "model": "doubao-seedance-2-0-720p",
        "prompt": "p",
        "seconds": "6",
        "metadata": {"ratio": "1:1", "generate_audio": False},
    }


def test_duplicate_keys_beside_a_merge_stay_errors(make_tree: Tree, cli: Cli) -> None:
    """A key written twice is an error even in a mapping that also merges an anchor."""
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n  - &wide {id: wide, prompt: dawn}\n"
            "  - <<: *wide\n    id: dusk\n    id: night\n"
        }
    )
    assert error_of(cli) == (
        "sb.yaml:8:5: shots[1].id: key 'id' is given twice; the second would silently win"
    )


@pytest.mark.parametrize("ending", ["---\n", "---\n# generated\n", "...\n", "---\n...\n"])
def test_empty_trailing_document_is_fine(ending: str, make_tree: Tree, cli: Cli) -> None:
    """A bare ``---`` (or ``...``) at the end of the file ends nothing that matters."""
    make_tree({"sb.yaml": "---\n" + HEAD + "shots:\n  - {id: a, prompt: x}\n" + ending})
    assert bodies(cli)["a"]["prompt"] == "x"


def test_second_document_is_named(make_tree: Tree, cli: Cli) -> None:
    """Two real documents get a message that says so, at the second one's line."""
    make_tree({"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x}\n---\nshots: []\n"})
    assert error_of(cli) == (
        "sb.yaml:7:1: the file holds 2 YAML documents (a second one starts at line 7, after a "
        "'---'); a pipeline is one document: remove the '---' or move what follows it into a "
        "file of its own"
    )


BLOCK_PROMPT = (
    HEAD + "vars:\n  night: {night}\n  birds: [gulls, terns]\n"
    "shots:\n  - id: a\n    prompt: |\n"
    "      A harbour at dawn.\n"
    "      {{% if night %}}\n"
    "        Lanterns glow on the water.\n"
    "      {{% endif %}}\n"
    "      {{% for bird in birds %}}\n"
    "      {{{{ bird | capitalize }}}} circle overhead.\n"
    "      {{% endfor %}}\n"
    "      {{# a note for the crew #}}\n"
    "      The tide turns{{% if night %}} in the dark{{% endif %}}\n"
    "      and boats leave.\n"
)


@pytest.mark.parametrize(
    ("night", "sent"),
    [
        (
            "true",
            "A harbour at dawn.\n  Lanterns glow on the water.\nGulls circle overhead.\n"
            "Terns circle overhead.\nThe tide turns in the dark\nand boats leave.\n",
        ),
        (
            "false",
            "A harbour at dawn.\nGulls circle overhead.\nTerns circle overhead.\n"
            "The tide turns\nand boats leave.\n",
        ),
    ],
)
def test_block_tags_on_their_own_line_leave_no_trace(
    night: str, sent: str, make_tree: Tree, cli: Cli
) -> None:
    """Lines holding only tags vanish; text, indentation and inline tags' lines stay."""
    make_tree({"sb.yaml": BLOCK_PROMPT.format(night=night)})
    assert bodies(cli)["a"]["prompt"] == sent


def test_prompts_end_the_same_with_or_without_templates(make_tree: Tree, cli: Cli) -> None:
    """A block prompt keeps its final line break whether or not it holds a template."""
    make_tree(
        {
            "sb.yaml": HEAD + "vars: {x: harbour}\nshots:\n"
            "  - id: plain\n    prompt: |\n      A harbour.\n"
            "  - id: templated\n    prompt: |\n      A {{ x }}.\n"
            "  - id: stripped\n    prompt: |-\n      A {{ x }}.\n"
        }
    )
    prompts = {k: v["prompt"] for k, v in bodies(cli).items()}
    assert prompts == {
        "plain": "A harbour.\n",
        "templated": "A harbour.\n",
        "stripped": "A harbour.",
    }
