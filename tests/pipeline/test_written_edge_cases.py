"""Odd but ordinary pipeline files: each either means what it says or fails with a located,
exact message before anything is sent (found by trying to break the loader).
"""

from __future__ import annotations

import json

import pytest

from tests.pipeline.requests import HEAD, Cli, Tree, errors_of, prompts


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ratio: !!int abc", "sb.yaml:7:12: shots[0].ratio: 'abc' is not a valid !!int"),
        (
            "generate_audio: !!bool yes",
            "sb.yaml:7:21: shots[0].generate_audio: 'yes' is not a valid !!bool",
        ),
        ("caption: !!null x", "sb.yaml:7:14: shots[0].caption: 'x' is not a valid !!null"),
        (
            "metadata: {t: !!timestamp 2024-01-01}",
            "sb.yaml:7:19: shots[0].metadata.t: the tag 'tag:yaml.org,2002:timestamp' is not "
            "supported; write the value as text, a number, true/false or null",
        ),
        (
            "metadata: {b: !!binary aGk=}",
            "sb.yaml:7:19: shots[0].metadata.b: the tag 'tag:yaml.org,2002:binary' is not "
            "supported; write the value as text, a number, true/false or null",
        ),
        (
            "metadata: {s: !!set {a: null}}",
            "sb.yaml:7:19: shots[0].metadata.s: the tag 'tag:yaml.org,2002:set' is not "
            "supported here",
        ),
    ],
)
def test_explicit_tags_are_checked(line: str, expected: str, make_tree: Tree, cli: Cli) -> None:
    """A YAML tag whose value does not fit it, or that builds no plain data, is an error."""
    make_tree({"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n    " + line + "\n"})
    assert errors_of(cli) == [expected]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("takes: true", "sb.yaml:7:12: shots[0].takes: true is not a whole number"),
        ("seconds: 1_0", "sb.yaml:7:14: shots[0].seconds: '1_0' is not a whole number"),
        (
            "generate_audio: yes",
            "sb.yaml:7:21: shots[0].generate_audio: 'yes' is text in YAML 1.2; write true or false",
        ),
        ("generate_audio: 1", "sb.yaml:7:21: shots[0].generate_audio: 1 is not true or false"),
        (
            "trim: {start: 1:30}",
            "sb.yaml:7:19: shots[0].trim.start: '1:30' is not a number "
            "(write seconds as 1.5, not 0:01.5)",
        ),
        ("trim: {end: .inf}", "sb.yaml:7:17: shots[0].trim.end: .inf is not a finite number"),
    ],
)
def test_typed_fields_take_only_their_type(
    line: str, expected: str, make_tree: Tree, cli: Cli
) -> None:
    """Numbers and booleans are not read from text or from each other; messages quote the file."""
    make_tree({"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n    " + line + "\n"})
    assert errors_of(cli) == [expected]


def test_empty_values_are_null(make_tree: Tree, cli: Cli) -> None:
    """``defaults:``, ``vars:`` and ``seconds:`` with nothing after them mean "not set"."""
    make_tree(
        {
            "sb.yaml": HEAD
            + "defaults:\nvars:\nreferences:\nshots:\n  - id: a\n    prompt: x\n    seconds:\n"
        }
    )
    assert prompts(cli) == {"a": "x"}


def test_metadata_numbers_json_can_carry(make_tree: Tree, cli: Cli) -> None:
    """``.inf`` and ``.nan`` in metadata are refused: the request could not be sent as JSON."""
    make_tree(
        {
            "sb.yaml": HEAD
            + "shots:\n  - id: a\n    prompt: x\n    metadata: {seed: .inf, w: [.nan]}\n"
        }
    )
    assert errors_of(cli) == [
        "sb.yaml:7:22: shots[0].metadata.seed: inf is not a finite number, and JSON cannot "
        "carry it",
        "sb.yaml:7:32: shots[0].metadata.w[0]: nan is not a finite number, and JSON cannot "
        "carry it",
    ]


def test_yaml11_boolean_words_in_metadata_warn(make_tree: Tree, cli: Cli) -> None:
    """``camera_fixed: yes`` is sent as the text "yes" (YAML 1.2), and validate says so."""
    make_tree(
        {"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n    metadata: {camera_fixed: yes}\n"}
    )
    result = cli("validate", "sb.yaml")
    assert result.exit_code == 0
    assert result.stderr == (
        "sb.yaml:7:30: shots[0].metadata.camera_fixed: warning: sent as the text 'yes'; "
        "for a boolean write true or false\n"
    )


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "references: {k: {image: 'https://{{ host }}/k.png'}}\n",
            "sb.yaml:4:25: references.k.image: is not a template, so '{{ host }}/k.png' would be "
            "used as typed; only a shot's prompt, caption, callback_url, metadata, frames and "
            "vars are rendered",
        ),
        (
            "output: {path: 'out/{{ brand }}.mp4'}\n",
            "sb.yaml:4:16: output.path: is not a template, so '{{ brand }}.mp4' would be used as "
            "typed; only a shot's prompt, caption, callback_url, metadata, frames and vars are "
            "rendered",
        ),
        (
            "output: {title_card: {text: '{{ title }}'}}\n",
            "sb.yaml:4:29: output.title_card.text: is not a template, so '{{ title }}' would be "
            "used as typed; only a shot's prompt, caption, callback_url, metadata, frames and "
            "vars are rendered",
        ),
        (
            "defaults: {model: '{% if x %}m{% endif %}'}\n",
            "sb.yaml:4:19: defaults.model: is not a template, so '{% if x %}m{% endif %}' would "
            "be used as typed; only a shot's prompt, caption, callback_url, metadata, frames "
            "and vars are rendered",
        ),
    ],
)
def test_braces_outside_templates_are_refused(
    extra: str, expected: str, make_tree: Tree, cli: Cli
) -> None:
    """Template syntax where nothing is rendered is refused where it is written."""
    make_tree({"sb.yaml": HEAD + extra + "shots:\n  - {id: a, prompt: x, references: []}\n"})
    assert expected in errors_of(cli)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "background",
            "000000",
            "'000000' is not a colour: use a CSS name such as 'black' or #rrggbb "
            "(did you mean '#000000'?)",
        ),
        (
            "color",
            "0xffffff",
            "'0xffffff' is not a colour: use a CSS name such as 'black' or #rrggbb",
        ),
        (
            "color",
            "blurple",
            "'blurple' is not a colour: use a CSS name such as 'black' or #rrggbb",
        ),
    ],
)
def test_card_colours_are_checked_before_spending(
    field: str, value: str, expected: str, make_tree: Tree, cli: Cli
) -> None:
    """A colour the assembly could not draw fails validate, not the assembly after paying."""
    make_tree(
        {
            "sb.yaml": HEAD + f"output: {{end_card: {{text: Fin, {field}: {value}}}}}\n"
            "shots:\n  - {id: a, prompt: x}\n"
        }
    )
    (error,) = errors_of(cli)
    assert error.endswith(f"output.end_card.{field}: " + expected)


def test_template_cannot_exhaust_memory(make_tree: Tree, cli: Cli) -> None:
    """Repetitions and paddings past the render limit are refused, not attempted."""
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n"
            "  - {id: a, prompt: \"{{ 'x' * 10**12 }}\"}\n"
            "  - {id: b, prompt: \"{{ 'x' | center(10**10) }}\"}\n"
            '  - {id: c, prompt: "{{ 7 ** 100000000 }}"}\n'
        }
    )
    assert errors_of(cli) == [
        "sb.yaml:5:21: shots[0].prompt: not allowed in a template: a repetition of "
        "1,000,000,000,000 times is over the limit of 100,000 characters",
        "sb.yaml:6:21: shots[1].prompt: not allowed in a template: a width of 10,000,000,000 "
        "is over the limit of 100,000",
        "sb.yaml:7:21: shots[2].prompt: not allowed in a template: a power that large is over "
        "the limit",
    ]


def test_written_values_behave_as_their_type_in_templates(make_tree: Tree, cli: Cli) -> None:
    """Tests and tojson see numbers, booleans and nulls; printing shows what was written."""
    make_tree(
        {
            "sb.yaml": HEAD + "vars: {flag: TRUE, nothing: ~, code: 0755}\nshots:\n  - id: a\n"
            '    prompt: "{{ flag | tojson }} {{ nothing | tojson }} {{ code | tojson }} '
            "{{ nothing is none }} {{ flag is true }} {{ flag is boolean }} "
            '{{ [flag, code] }} {{ flag }} {{ code + 1 }}"\n'
        }
    )
    assert prompts(cli) == {"a": "true null 755 True True True [TRUE, 0755] TRUE 756"}


def test_reserved_names_are_refused(make_tree: Tree, cli: Cli) -> None:
    """``shot`` and ``ref`` are rdpipe's in every template; a variable may not take them."""
    make_tree({"sb.yaml": HEAD + "vars: {shot: wide}\nshots:\n  - {id: a, prompt: x}\n"})
    message = (
        "is a name rdpipe gives every template ({{ shot.id }}, {{ ref('x') }}); "
        "rename this variable"
    )
    assert errors_of(cli) == [f"sb.yaml:4:14: vars.shot: 'shot' {message}"]
    make_tree({"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: x}\n"})
    assert errors_of(cli, "--set", "ref=1") == [f"--set: ref: 'ref' {message}"]


def test_set_problems_name_the_option(make_tree: Tree, cli: Cli) -> None:
    """A problem in a ``--set`` value points at the option, not at a line of the file."""
    make_tree({"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: '{{ mood }}'}\n"})
    assert errors_of(cli, "--set", "mood={{ mood }} sky") == [
        "--set: mood: variable 'mood' uses itself: mood -> mood"
    ]
    assert errors_of(cli, "--set", "mood={{ moood }}") == [
        "--set: mood: 'moood' is undefined; did you mean 'mood'?"
    ]


def test_a_set_no_template_reads_is_refused(make_tree: Tree, cli: Cli) -> None:
    """``--set moood=calm`` (a typo) would be ignored and every shot paid for without it: a
    located error with the closest name read; a name read only through another variable counts."""
    make_tree(
        {
            "sb.yaml": HEAD + "vars: {look: 'grey, {{ lens }}', lens: 35mm, spare: x}\nshots:\n"
            "  - {id: a, prompt: '{{ mood }} sea, {{ look }}'}\n"
        }
    )
    assert errors_of(cli, "--set", "mood=calm", "--set", "moood=calm") == [
        "--set: moood: no template of the pipeline reads 'moood', so this value would change "
        "nothing; did you mean --set mood=...?"
    ]
    assert prompts(cli, "--set", "mood=calm", "--set", "lens=50mm") == {"a": "calm sea, grey, 50mm"}
    assert errors_of(cli, "--set", "mood=calm", "--set", "spare=y", "--set", "zzz=1") == [
        "--set: spare: no template of the pipeline reads 'spare', so this value would change "
        "nothing; the file defines it under vars: but no template uses it",
        "--set: zzz: no template of the pipeline reads 'zzz', so this value would change "
        "nothing; the variables it reads are 'lens', 'look', 'mood'",
    ]
    make_tree({"sb.yaml": HEAD + "shots:\n  - {id: a, prompt: plain}\n"})
    assert errors_of(cli, "--set", "mood=calm") == [
        "--set: mood: no template of the pipeline reads 'mood', so this value would change "
        "nothing; it reads no variables"
    ]


def test_a_variable_extends_the_one_below_it(make_tree: Tree, cli: Cli) -> None:
    """A shot's ``look: "{{ look }}, wide"`` builds on the pipeline's look; --set on both."""
    make_tree(
        {
            "sb.yaml": HEAD + "vars: {look: grey light}\nshots:\n"
            "  - {id: a, prompt: '{{ look }}'}\n"
            "  - {id: b, prompt: '{{ look }}', vars: {look: '{{ look }}, wide'}}\n"
        }
    )
    assert prompts(cli) == {"a": "grey light", "b": "grey light, wide"}
    assert prompts(cli, "--set", "look={{ look }}, 35mm") == {
        "a": "grey light, 35mm",
        "b": "grey light, wide, 35mm",
    }


def test_unused_variables_are_not_rendered(make_tree: Tree, cli: Cli) -> None:
    """A kit variable only one shot can render breaks nothing unless another shot uses it."""
    kit = HEAD + 'vars: {tagline: "{{ product }} by ACME"}\nshots:\n'
    make_tree(
        {
            "sb.yaml": kit + "  - {id: a, prompt: '{{ tagline }}', vars: {product: Kite}}\n"
            "  - {id: b, prompt: plain}\n"
        }
    )
    assert prompts(cli) == {"a": "Kite by ACME", "b": "plain"}
    make_tree(
        {
            "sb.yaml": kit + "  - {id: a, prompt: '{{ tagline }}', vars: {product: Kite}}\n"
            "  - {id: b, prompt: '{{ tagline }}'}\n  - {id: c, prompt: '{{ tagline }}'}\n"
        }
    )
    assert errors_of(cli) == [
        "sb.yaml:4:17: vars.tagline: 'product' is undefined; define it under vars:, in the "
        "shot's vars: or with --set product=... (rendering shots 'b', 'c')"
    ]


def test_alias_expansion_is_bounded(make_tree: Tree, cli: Cli) -> None:
    """Aliases that multiply templates stop at a bound instead of running for minutes."""
    layers = ["a0: &a0 ['{{ mood }} {{ mood }} {{ mood }} {{ mood }} {{ mood }}']"]
    for level in range(1, 7):
        layers.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 8)}]")
    text = (
        HEAD + "vars:\n  mood: " + "x" * 200 + "\n  " + "\n  ".join(layers) + "\n"
        "shots:\n  - {id: s, prompt: '{{ a6 | length }}'}\n"
    )
    make_tree({"sb.yaml": text})
    (error,) = errors_of(cli)
    assert "more than 200000 values" in error or "more than 20,000,000 characters" in error


@pytest.mark.parametrize(
    ("prompt", "sent"),
    [
        (
            "|-\n      A\n      {# a comment\n      over two lines #}\n      B",
            "A\nB",
        ),
        (
            "|-\n      A\n      {% if night\n        and true %}\n      moon\n"
            "      {% endif %}\n      B",
            "A\nmoon\nB",
        ),
        (">\n      A\n      {% if night %}\n      moon\n      {% endif %}\n      B", "A moon B\n"),
        ("A {% if night %} moon {% endif %} B", "A moon B"),
        ('"A\n      {% if night %}\n      moon\n      {% endif %}\n      B"', "A moon B"),
        (
            "|-\n      A\n        {%- if night %}\n      moon\n      {% endif -%}\n      B",
            "A\nmoon\nB",
        ),
        ("|-\n      {% raw %}\n      {{sign}}\n      {% endraw %}", "\n{{sign}}\n"),
    ],
)
def test_tags_leave_no_trace_in_every_style(
    prompt: str, sent: str, make_tree: Tree, cli: Cli
) -> None:
    """Multi-line tags, folded and quoted prompts, and Jinja's own whitespace control."""
    make_tree(
        {"sb.yaml": HEAD + "vars: {night: true}\nshots:\n  - id: a\n    prompt: " + prompt + "\n"}
    )
    assert prompts(cli)["a"] == sent


def test_syntax_error_line_is_the_line_written(make_tree: Tree, cli: Cli) -> None:
    """Tag lines removed before Jinja do not shift the template line an error names."""
    make_tree(
        {
            "sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: |\n      A\n      {% if x %}\n"
            "      B\n      {% endif %}\n      {{ oops( }}\n"
        }
    )
    (error,) = errors_of(cli)
    assert "(template line 5)" in error


@pytest.mark.parametrize(
    ("prompt", "hint"),
    [
        ("{{ look }} and {{ DAILY SPECIAL }}", "{% raw %}{{ DAILY SPECIAL }}{% endraw %}"),
        ("{# note #} a {#OceanDay}", "{% raw %}{#OceanDay}{% endraw %}"),
        ("{{ look }} and {{SPECIAL}}", "{% raw %}{{SPECIAL}}{% endraw %}"),
    ],
)
def test_raw_hint_quotes_the_braces_at_fault(
    prompt: str, hint: str, make_tree: Tree, cli: Cli
) -> None:
    """The literal-braces advice names the span that failed, not the first braces."""
    make_tree(
        {
            "sb.yaml": HEAD
            + "vars: {look: x}\nshots:\n  - id: a\n    prompt: "
            + json.dumps(prompt)
            + "\n"
        }
    )
    (error,) = errors_of(cli)
    assert error.endswith("wrap them in raw tags: " + hint)


@pytest.mark.parametrize(
    ("prompt", "sent"),
    [
        ("{%+ raw %}{{a}}{% endraw %}", "{{a}}"),
        ("{%- raw -%} {{a}} {%- endraw -%}", "{{a}}"),
    ],
)
def test_raw_variants(prompt: str, sent: str, make_tree: Tree, cli: Cli) -> None:
    """Every spelling of raw tags works, and no internal mark leaks into a prompt."""
    make_tree({"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: " + json.dumps(prompt) + "\n"})
    assert prompts(cli)["a"] == sent


def test_noncharacter_is_refused(make_tree: Tree, cli: Cli) -> None:
    """U+FDD0, which rdpipe uses internally to mark literal braces, is refused in input."""
    make_tree({"sb.yaml": HEAD + 'shots:\n  - id: a\n    prompt: "x \\uFDD0 y"\n'})
    assert errors_of(cli) == [
        "sb.yaml:6:13: shots[0].prompt: holds U+FDD0, a Unicode noncharacter (reserved for "
        "programs' own use, never for text): remove it"
    ]


def test_metadata_keys_are_checked(make_tree: Tree, cli: Cli) -> None:
    """A metadata key holding template syntax is refused: keys are sent as written."""
    make_tree(
        {"sb.yaml": HEAD + "shots:\n  - id: a\n    prompt: x\n    metadata: {'{{ k }}': 1}\n"}
    )
    (error,) = errors_of(cli)
    assert error.startswith("sb.yaml:7:27: shots[0].metadata.{{ k }}: this key still holds")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "shots:\n  - {id: b, prompt: {{ look }} at dawn}\n",
            "sb.yaml:6:21: a value that starts with '{{', '{%' or '{#' must be quoted, or YAML "
            'reads it as a mapping; write:  - {id: b, prompt: "{{ look }} at dawn"}',
        ),
        (
            "shots:\n  - {id: b,\n     prompt: {{ look }} at dawn}\n",
            "sb.yaml:7:14: a value that starts with '{{', '{%' or '{#' must be quoted, or YAML "
            'reads it as a mapping; write:  prompt: "{{ look }} at dawn"}',
        ),
        (
            "shots:\n  - id: b\n    prompt: {SIGN} at dawn\n",
            "sb.yaml:7:13: text that starts with '{' must be quoted, or YAML reads it as a "
            'mapping; write:  prompt: "{SIGN} at dawn"',
        ),
        (
            "shots:\n  - id: b\n    prompt: [Narrator] at dawn\n",
            "sb.yaml:7:13: text that starts with '[' must be quoted, or YAML reads it as a "
            'list; write:  prompt: "[Narrator] at dawn"',
        ),
        (
            "shots:\n  - id: b\n    prompt: &p {{ look }}\n",
            "sb.yaml:7:16: shots[0].prompt: a value that starts with '{{', '{%' or '{#' must be "
            'quoted, or YAML reads it as a mapping; write:  prompt: &p "{{ look }}"',
        ),
        (
            "shots:\n  - id: b\n    prompt: {{look}}#tag\n",
            "sb.yaml:7:13: shots[0].prompt: a value that starts with '{{', '{%' or '{#' must be "
            'quoted, or YAML reads it as a mapping; write:  prompt: "{{look}}#tag"',
        ),
    ],
)
def test_misread_braces_get_the_fixed_line(
    text: str, expected: str, make_tree: Tree, cli: Cli
) -> None:
    """Flow style, multi-line flow, single braces in text, anchors and glued '#'."""
    make_tree({"sb.yaml": HEAD + "vars: {look: y}\n" + text})
    assert errors_of(cli) == [expected]


def test_merge_key_edge_cases(make_tree: Tree, cli: Cli) -> None:
    """Two '<<' in a mapping and a '<<' of a list are located errors; a duplicate inside an
    anchor is reported once however often it is used."""
    make_tree(
        {
            "sb.yaml": HEAD + "x-base: &base {seconds: 5, seconds: 6}\nx-list: &l [1]\n"
            "shots:\n  - {<<: *base, <<: {ratio: '1:1'}, id: a, prompt: x}\n"
            "  - {<<: *base, id: b, prompt: y}\n"
        }
    )
    assert errors_of(cli) == [
        "sb.yaml:4:28: x-base.seconds: key 'seconds' is given twice; the second would silently win",
        "sb.yaml:7:17: shots[0]: '<<' is given twice; merge several anchors with one list: "
        "<<: [*a, *b]",
    ]
    make_tree({"sb.yaml": HEAD + "x-list: &l [1]\nshots:\n  - {<<: *l, id: a, prompt: x}\n"})
    assert errors_of(cli) == [
        "sb.yaml:6:6: invalid YAML: '<<' merges mappings only (an &anchor of keys, or a list "
        "of them)"
    ]


def test_extension_keys_hold_anchors(make_tree: Tree, cli: Cli) -> None:
    """Top-level ``x-`` keys are ignored: a place for anchors shared by shots."""
    make_tree(
        {
            "sb.yaml": HEAD + "x-wide: &wide {seconds: 6, ratio: '21:9'}\n"
            "shots:\n  - {<<: *wide, id: a, prompt: x}\n"
        }
    )
    result = cli("plan", "sb.yaml", "--json")
    assert json.loads(result.stdout)["shots"][0]["request"] == {
        "model": "doubao-seedance-2-0-720p",
        "prompt": "x",
        "seconds": "6",
        "metadata": {"ratio": "21:9"},
    }


def test_include_may_name_one_file_without_a_list(make_tree: Tree, cli: Cli) -> None:
    """``include: kit/brand.yaml`` is the one-item list it obviously means."""
    make_tree(
        {
            "sb.yaml": HEAD
            + "include: kit/brand.yaml\nshots:\n  - {id: a, prompt: '{{ brand }}'}\n",
            "kit/brand.yaml": "vars: {brand: ACME}\n",
        }
    )
    assert prompts(cli) == {"a": "ACME"}


def test_anchors_do_not_cross_files(make_tree: Tree, cli: Cli) -> None:
    """An include using the main file's anchor gets a message saying anchors are per file."""
    make_tree(
        {
            "sb.yaml": HEAD + "x-a: &look {seconds: 6}\ninclude: [kit.yaml]\n"
            "shots:\n  - {id: a, prompt: x}\n",
            "kit.yaml": "defaults: *look\n",
        }
    )
    assert errors_of(cli) == [
        "kit.yaml:1:11: invalid YAML: found undefined alias 'look'; anchors are local to one "
        "file: an included file cannot use another's"
    ]
