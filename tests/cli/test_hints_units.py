"""rdpipe.hints without a process: how an Invocation writes a command, how a Suggestion fills
its sentence, and how an error's suggestion is addressed to the user's invocation."""

from __future__ import annotations

from pathlib import Path

from rdpipe.errors import RdpipeError
from rdpipe.hints import Command, Invocation, Suggestion

HOME = Path("/home/ana/films")


def test_the_file_is_written_from_where_the_user_is_and_quoted() -> None:
    """A file in a subfolder with a space is relative to cwd and quoted; one typed absolute
    outside cwd stays absolute (no ../../); --offline and each --set follow where accepted."""
    typed = Invocation(HOME, Path("my films/film.yaml"), offline=True, sets=("mood=very stormy",))
    assert typed.command("assemble") == (
        "rdpipe assemble 'my films/film.yaml' --offline --set 'mood=very stormy'"
    )
    assert typed.command("review") == "rdpipe review 'my films/film.yaml' --offline"
    assert typed.command("pick", "kite", "2") == (
        "rdpipe pick 'my films/film.yaml' kite 2 --set 'mood=very stormy'"
    )
    assert typed.command("models") == "rdpipe models --offline"
    inside = Invocation(HOME, HOME / "a" / "film.yaml")
    assert inside.command("status") == "rdpipe status a/film.yaml"
    outside = Invocation(HOME, Path("/srv/shared films/film.yaml"), allow_outside_files=True)
    assert outside.command("run", options=("--resubmit-unknown",)) == (
        "rdpipe run '/srv/shared films/film.yaml' --resubmit-unknown --allow-outside-files"
    )


def test_a_suggestion_names_file_without_an_invocation_and_the_file_with_one() -> None:
    suggestion = Suggestion(
        "Run `{0}` first, or `{1}` to leave them out.",
        (Command("run"), Command("assemble", options=("--partial",))),
    )
    assert suggestion.render(None) == (
        "Run `rdpipe run FILE` first, or `rdpipe assemble FILE --partial` to leave them out."
    )
    assert suggestion.render(Invocation(HOME, Path("film.yaml"), offline=True)) == (
        "Run `rdpipe run film.yaml --offline` first, or `rdpipe assemble film.yaml --partial "
        "--offline` to leave them out."
    )


def test_an_error_is_addressed_to_the_invocation() -> None:
    """str() says FILE until the CLI addresses the error; then the user's command, and an
    error without a suggestion keeps its hint."""
    error = RdpipeError("no clip yet for a", suggestion=Suggestion.of("run", "Run `{0}` first."))
    assert str(error) == "no clip yet for a\nRun `rdpipe run FILE` first."
    error.address(Invocation(HOME, Path("my films/film.yaml"), sets=("look=noir",)))
    assert (
        str(error)
        == "no clip yet for a\nRun `rdpipe run 'my films/film.yaml' --set look=noir` first."
    )
    assert error.hint == "Run `rdpipe run 'my films/film.yaml' --set look=noir` first."
    plain = RdpipeError("stopped", hint="Check the network.")
    plain.address(Invocation(HOME, Path("film.yaml")))
    assert str(plain) == "stopped\nCheck the network."


def test_a_relative_file_starting_with_a_dash_is_not_read_as_an_option() -> None:
    """`-dash/film.yaml` is written `./-dash/film.yaml` (a bare `-d...` is an option to the
    shell's command line); an absolute path and a name with a dash inside are left alone."""
    dashed = Invocation(HOME, Path("-dash/film.yaml"), offline=True)
    assert dashed.file_argument() == "./-dash/film.yaml"
    assert dashed.command("run") == "rdpipe run ./-dash/film.yaml --offline"
    assert Invocation(HOME, HOME / "-x.yaml").command("status") == "rdpipe status ./-x.yaml"
    assert Invocation(HOME, Path("a-b/film.yaml")).file_argument() == "a-b/film.yaml"
    assert Invocation(HOME, Path("/-srv/film.yaml")).file_argument() == "/-srv/film.yaml"


def test_a_path_through_a_symlinked_folder_is_written_as_the_kernel_reads_it(
    tmp_path: Path,
) -> None:
    """``outlink/../rot.yaml`` with outlink -> rot/out is rot/rot.yaml to the kernel (``..``
    from where the link points); the lexical ``rot.yaml`` does not exist there. The command
    names rot/rot.yaml; a path without a link is left as typed."""
    (tmp_path / "rot" / "out").mkdir(parents=True)
    (tmp_path / "rot" / "rot.yaml").write_text("version: 1\n", encoding="utf-8")
    (tmp_path / "outlink").symlink_to("rot/out")
    linked = Invocation(tmp_path, Path("outlink/../rot.yaml"))
    assert linked.command("pick", "phone", "1") == "rdpipe pick rot/rot.yaml phone 1"
    plain = Invocation(tmp_path, Path("rot/../rot/rot.yaml"))
    assert plain.command("status") == "rdpipe status rot/rot.yaml"
    not_yet = Invocation(tmp_path, Path("outlink/../new.yaml"))  # no file: left as typed
    assert not_yet.command("run") == "rdpipe run new.yaml"
