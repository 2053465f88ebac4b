"""The typer application every command module registers on, and the one error-to-exit mapping.

Command modules import heavy libraries inside their functions so that ``rdpipe --help`` stays
fast. Each command starts with one :class:`~rdpipe.cli.context.CommandContext` (the environment
and its consoles) and hands it to :func:`run_command` and to whatever it prints with.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.text import Text
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.exceptions import TyperException

from rdpipe.cli.context import CommandContext, GlobalOptions
from rdpipe.cli.examples import EXAMPLES, example
from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.send_record import StoppedAfterSending
from rdpipe.standard_streams import OutputClosed

if TYPE_CHECKING:
    from rich.console import Console

    from rdpipe.hints import Invocation


class _PlainArgument(TyperArgument):
    """An argument as click shows one: ``FILE`` in the usage line (``[FOLDER]`` when optional)
    and no Python type label (``<path>``) beside its help; its metavar says what it is."""

    def display_type(self, ctx: typer.Context) -> str:  # type: ignore[override]
        return ""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        name = name if self.required else f"[{name}]"
        return name if self.nargs == 1 else f"{name}..."


def range_words(low: float | None, high: float | None, *, whole: bool = True) -> str | None:
    """``from 1 to 256``, ``at least 0``, ``at most 9``: a number range as help says it
    (``None`` without bounds); ``whole``: whole numbers (``1``), else as written (``0.05``)."""

    def shown(value: float) -> str:
        return str(int(value)) if whole else f"{value:g}"

    if low is not None and high is not None:
        return f"from {shown(low)} to {shown(high)}"
    if low is not None:
        return f"at least {shown(low)}"
    return None if high is None else f"at most {shown(high)}"


#: What a yes/no option (or its ``RDPIPE_*`` variable) reads, as said when it reads neither.
_YES_NO = "1, true, yes or on; or 0, false, no or off"


class _ValueProblem(typer.BadParameter):
    """A value an option could not take, said in rdpipe's words: the value as the user gave
    it (``RDPIPE_CONCURRENCY=abc``, ``--concurrency abc``), the option, and what it takes."""

    def __init__(self, message: str, param: TyperOption) -> None:
        super().__init__(message, param=param)
        self.said = message

    def format_message(self) -> str:
        return self.said


class _WordedOption(TyperOption):
    """An option whose help gives its range in words (``[from 1 to 256]``, not
    ``[1<=x<=256]``) and whose bad value is said naming the value and where it came from."""

    def _get_number_range_help_str(self) -> str | None:
        return range_words(self.min, self.max, whole=self._whole())

    def _whole(self) -> bool:
        return self.type_descriptor.annotation is not float and not (
            isinstance(self.min, float) or isinstance(self.max, float)
        )

    def process_value(self, ctx: typer.Context, value: object) -> object:  # type: ignore[override]
        try:
            return super().process_value(ctx, value)
        except typer.BadParameter as error:
            # Only typer's own conversion (pydantic's words); a parser's or callback's message
            # is rdpipe's already.
            converted = type(error.__cause__).__name__ == "ValidationError"
            numeric = self.type_descriptor.annotation in (int, float, bool)
            if not (converted and numeric and isinstance(value, str)):
                raise
            raise _ValueProblem(self._problem(ctx, value), self) from None

    def _problem(self, ctx: typer.Context, value: str) -> str:
        import shlex

        name = next((opt for opt in self.opts if opt.startswith("--")), self.opts[0])
        source = ctx.get_parameter_source(self.name or "")
        from_environment = source is not None and source.name == "ENVIRONMENT"
        variable = self.envvar if isinstance(self.envvar, str) else None
        given = (
            f"{variable}={shlex.quote(value)}"
            if from_environment and variable
            else f"{name} {shlex.quote(value)}"
        )
        where = f" (for {name})" if from_environment and variable else ""
        if self.type_descriptor.annotation is bool or self.is_flag:
            return f"{given} is not a yes or no{where}: give {_YES_NO}"
        whole = self._whole()
        kind = "a whole number" if whole else "a number"
        bounds = range_words(self.min, self.max, whole=whole)
        return f"{given} is not valid{where}: give {kind}" + (f" {bounds}" if bounds else "")


#: The shells ``--install-completion`` and ``--show-completion`` know.
SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
_COMPLETION_OPTIONS = ("--install-completion", "--show-completion")


def _completion_asked(args: list[str]) -> tuple[str, str] | None:
    """``(option, shell)`` when ``args`` (rdpipe's, before the command) name a shell after a
    completion option (``--install-completion fish``, ``--show-completion=zsh``)."""
    for index, arg in enumerate(args):
        option, equals, shell = arg.partition("=")
        if option not in _COMPLETION_OPTIONS:
            if not arg.startswith("-"):
                return None  # the command's name: its own arguments follow
            continue
        if equals:
            return option, shell
        if index + 1 < len(args) and not args[index + 1].startswith("-"):
            return option, args[index + 1]
        return None
    return None


def _complete_for(ctx: typer.Context, option: str, shell: str) -> None:
    """Install or show the completion of ``shell`` (as typer's own options do for the shell
    they detect), exit 0; a shell rdpipe cannot complete is a usage error (exit 2)."""
    from typer._completion_shared import get_completion_script, install

    if shell not in SHELLS:
        raise typer.BadParameter(
            f"{shell!r} is not a shell rdpipe can complete: give one of {', '.join(SHELLS)}",
            ctx=ctx,
            param_hint=option,
        )
    program = ctx.info_name or "rdpipe"
    variable = "_{}_COMPLETE".format(program.replace("-", "_").upper())
    if option == "--show-completion":
        script = get_completion_script(prog_name=program, complete_var=variable, shell=shell)
        sys.stdout.write(script + "\n")
    else:
        installed, path = install(shell=shell, prog_name=program, complete_var=variable)
        sys.stdout.write(
            f"{installed} completion installed in {path}\n"
            "Completion will take effect once you restart the terminal\n"
        )
    raise typer.Exit(0)


class _Group(TyperGroup):
    """rdpipe's command group: each command's help ends with its example (:data:`EXAMPLES`)
    and shows its arguments as :class:`_PlainArgument`; so do the commands of its groups."""

    def __init__(self, **attrs: object) -> None:
        super().__init__(**attrs)  # type: ignore[arg-type]
        for name, command in self.commands.items():
            _dress(command, name)

    def get_params(self, ctx: typer.Context) -> list[Any]:  # type: ignore[override]
        """The options, typer's completion ones saying that they take a shell too."""
        params = list(super().get_params(ctx))
        shells = ", ".join(SHELLS)
        for param in params:  # click's Option (typer's base class lacks ``help``)
            if param.name == "install_completion":
                param.help = f"Install completion for the current shell, or SHELL ({shells})."  # type: ignore[attr-defined]
            elif param.name == "show_completion":
                param.help = "Print the completion script of the current shell, or SHELL's."  # type: ignore[attr-defined]
        return params

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        """As click parses, but ``--install-completion SHELL`` / ``--show-completion SHELL``
        act for that shell (typer's own options take no shell: they detect one and ignore the
        word given), and refuse a shell they do not know (exit 2, naming the shells)."""
        if ctx.parent is None:
            asked = _completion_asked(args)
            if asked is not None:
                _complete_for(ctx, *asked)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]
        """Run the command, and under ``--json`` say a usage error on standard output too.

        A usage error (a bad or missing option or argument, a bad ``RDPIPE_*`` value, or one a
        command's body raises) is said by click on standard error as always; when ``--json`` is
        among the command's arguments (before any ``--``) its ``error`` document
        (:func:`rdpipe.cli.machine_output.usage_error_document`) is printed on standard output
        first, so a script reading stdout always gets one document.
        """
        arguments = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        try:
            return super().invoke(ctx)
        except TyperException as error:
            _hint_global_option(error, ctx.info_name or "rdpipe", arguments)
            if _asks_for_json(arguments):
                _print_usage_error(error)
            raise


#: rdpipe's own options (:func:`_global_options`), which go before the command name.
GLOBAL_OPTIONS = frozenset({"-q", "--quiet", "-v", "--verbose", "--version"})


def _hint_global_option(error: TyperException, program: str, arguments: list[str]) -> None:
    """When click's "No such option" ``error`` is about one of :data:`GLOBAL_OPTIONS` given
    after the command name (as written in ``arguments``, the command and what follows it),
    add a line to its message: the same command with the option moved before the command,
    shell-quoted (``shlex.join``), as in ``rdpipe -q run FILE --offline``."""
    import shlex

    option = getattr(error, "option_name", None)
    if type(error).__name__ != "NoSuchOption" or option not in GLOBAL_OPTIONS:
        return
    options = arguments[: arguments.index("--")] if "--" in arguments else arguments
    if option not in options:  # e.g. inside a bundle of short options (-qx): no sure command
        return
    rest = list(arguments)
    del rest[rest.index(option)]
    moved = shlex.join([program, option, *rest])
    error.message = (
        f"{error.format_message()}\n"
        f"{option} is an option of rdpipe itself: put it before the command, as in `{moved}`"
    )
    error.possibilities = None  # type: ignore[attr-defined]  # said in the message above


def _dress(command: object, path: str) -> None:
    """Give ``command`` (at ``path``, as ``sim serve``) its example and plain arguments, and
    its help and its parameters' help in plain backquotes (the docstrings' reStructuredText
    ````asset: true```` reads as `asset: true` in a terminal)."""
    if path in EXAMPLES and getattr(command, "epilog", None) is None:
        command.epilog = example(*EXAMPLES[path])  # type: ignore[attr-defined]
    for owner in (command, *getattr(command, "params", ())):
        for field in ("help", "short_help"):
            text = getattr(owner, field, None)
            if isinstance(text, str) and "``" in text:
                setattr(owner, field, text.replace("``", "`"))
    for param in getattr(command, "params", ()):
        if type(param) is TyperArgument:
            param.__class__ = _PlainArgument  # same state; only what help shows
        elif type(param) is TyperOption:
            param.__class__ = _WordedOption  # same state; help and errors in words
    for name, sub in getattr(command, "commands", {}).items():
        _dress(sub, f"{path} {name}")


app = typer.Typer(
    name="rdpipe",
    cls=_Group,
    help="Declarative video pipelines for the RelayDance (Seedance) video API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: fast (rich help costs ~0.3 s of imports)
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, pwsh)
    context_settings={"help_option_names": ["-h", "--help"]},
)

T = TypeVar("T")


def _show_version(value: bool) -> None:
    """``--version``: print ``rdpipe X.Y.Z`` (the installed distribution's version) and exit."""
    if value:
        from rdpipe.version import version_line

        sys.stdout.write(version_line() + "\n")
        raise typer.Exit()


@app.callback(epilog=example("rdpipe init", "rdpipe run storyboard.yaml --offline"))
def _global_options(
    ctx: typer.Context,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="Print only errors and the final summary: no live view, progress or notes.",
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Also print each retry and back-off, one line each."),
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print rdpipe's version."
        ),
    ] = False,
) -> None:
    """Declarative video pipelines for the RelayDance (Seedance) video API."""
    if quiet and verbose:
        raise typer.BadParameter("choose one of --quiet and --verbose", param_hint="-q/-v")
    ctx.obj = GlobalOptions(verbosity=-1 if quiet else 1 if verbose else 0)


class InterruptionReported(SystemExit):
    """A command was interrupted (Ctrl-C) and has said so: exit 130, and nobody says it again.

    A :class:`SystemExit` rather than typer's ``Exit``, because click turns an ``Exit`` into a
    bare exit code: the entry point (:mod:`rdpipe.entry`) could then not tell it from a Ctrl-C
    typer swallowed before any command body ran, which nobody has reported yet.
    """

    def __init__(self) -> None:
        super().__init__(int(ExitCode.INTERRUPTED))


def run_command(
    action: Callable[[], T],
    context: CommandContext,
    *,
    state_dir: Path | None = None,
    invocation: Invocation | None = None,
    as_json: bool = False,
    pipeline: Path | None = None,
) -> T:
    """Run one command body, turning every exception into a message and an exit code.

    This is the only place errors become exit codes: invalid input exits 2, a failure 1,
    Ctrl-C 130, also when a task group wraps them. A file or folder the environment will not
    let rdpipe write (full disk, read-only, a folder in a file's place) is said in one paragraph
    (:mod:`rdpipe.cli.file_problems`), exit 2 before anything was sent, else 1 (the error comes
    wrapped in :class:`~rdpipe.send_record.StoppedAfterSending`). A closed standard output goes
    up to the entry point (:mod:`rdpipe.entry`, exit 141). Any other exception is a bug: the
    user gets one paragraph and the traceback goes to a crash log (in ``state_dir``, the
    pipeline's ``.rdpipe/``, when the command has one), exit 1. What is said goes to the
    ``context``'s standard error console; on the screen and in the log, it goes through its
    redactor. Ctrl-C says "interrupted" and raises :class:`InterruptionReported`. An error's
    suggested command is written for ``invocation`` (how the user ran this command), if given.
    With ``as_json`` (the command's ``--json``), an error is also printed on standard output
    as an ``error`` document (:func:`rdpipe.cli.machine_output.error_document`), its paths
    relative to the folder of ``pipeline`` (else of ``invocation``'s pipeline); a usage error
    is printed so by :class:`_Group`, for every command.
    """
    try:
        return action()
    except TyperException:  # a usage error (typer.BadParameter): said by click (and _Group)
        raise
    except (typer.Exit, typer.Abort):
        raise  # typer's own control flow
    except BaseException as error:
        closed = [leaf for leaf in _leaves(error) if isinstance(leaf, OutputClosed)]
        if closed:
            raise closed[0] from None  # not a bug: the entry point says so in one line
        if _interrupted(error):
            say_interrupted(context.err)
            if as_json:  # a machine reading stdout learns how it ended
                _write_out(dumps_line(interrupted_document()), context)
            raise InterruptionReported from None
        if not isinstance(error, Exception):
            raise  # SystemExit, GeneratorExit
        from rdpipe.cli.file_problems import file_problem

        sent = _after_sending(error)
        offline = invocation is not None and invocation.offline  # nothing paid: said so
        leaves = [file_problem(leaf, sent=sent, offline=offline) or leaf for leaf in _leaves(error)]
        errors = [leaf for leaf in leaves if isinstance(leaf, RdpipeError)]
        if len(errors) < len(leaves):
            errors = [_crash_report(error, state_dir, context)]
        if invocation is not None:  # the hint's command in the user's terms (rdpipe.hints)
            for leaf in errors:
                leaf.address(invocation)
        said = list({str(leaf): leaf for leaf in errors}.values())  # one reason, said once
        for leaf in said:
            report_error(leaf, context)
        code = max(int(leaf.exit_code) for leaf in errors)
        if as_json:
            if pipeline is None and invocation is not None:
                pipeline = invocation.pipeline
            _print_error(said, code, pipeline, context)
        raise typer.Exit(code) from None


def _print_error(
    errors: list[RdpipeError], code: int, pipeline: Path | None, context: CommandContext
) -> None:
    """The ``error`` document of ``errors`` on standard output, through the redactor."""
    from rdpipe.cli.machine_output import dumps, error_document

    base = None if pipeline is None else pipeline.absolute().parent
    shown = error_document(errors, exit_code=code, base=base)
    _write_out(context.redactor.redact(dumps(shown, indent=None)), context)


def _asks_for_json(arguments: list[str]) -> bool:
    """Whether ``--json`` is among a command's ``arguments`` (an option: before any ``--``)."""
    options = arguments[: arguments.index("--")] if "--" in arguments else arguments
    return "--json" in options


def _print_usage_error(error: TyperException) -> None:
    """The ``error`` document of a usage error on standard output: click's message (as on
    standard error, through the environment's redactor), its exit code (2) and, as ``field``,
    the option (its long name) or argument (``FILE``) click names (:func:`_usage_field`)."""
    import os

    from rdpipe.cli.machine_output import dumps, usage_error_document
    from rdpipe.redaction import Redactor

    code = getattr(error, "exit_code", int(ExitCode.INVALID_INPUT))
    shown = usage_error_document(
        error.format_message(), exit_code=int(code), field=_usage_field(error)
    )
    stream = sys.stdout
    stream.write(Redactor.from_environ(dict(os.environ)).redact(dumps(shown, indent=None)) + "\n")
    stream.flush()


def _usage_field(error: TyperException) -> str | None:
    """The option or argument a usage error is about, as the user writes it: an option's long
    name (``--concurrency``, also when its ``RDPIPE_*`` variable was bad), an argument's
    metavar (``FILE``), an unknown option as given (``--bogus``); ``None`` when click names
    none."""
    param = getattr(error, "param", None)
    if getattr(param, "param_type_name", None) == "argument":
        name = getattr(param, "display_name_raw", None) or getattr(param, "name", None)
        return str(name) if name else None
    if param is not None:
        opts: list[str] = list(getattr(param, "opts", None) or [])
        long = [opt for opt in opts if opt.startswith("--")]
        return (long or opts)[0] if opts else None
    for key in ("option_name", "param_hint"):
        value = getattr(error, key, None)
        if isinstance(value, str) and value:
            return value
    return None


def _write_out(text: str, context: CommandContext) -> None:
    stream = context.out.file
    stream.write(text + "\n")
    stream.flush()


#: The ``error`` document's message of a command stopped by Ctrl-C.
INTERRUPTED = "interrupted (Ctrl-C); what was already done is recorded"


def interrupted_document() -> dict[str, object]:
    """The ``error`` document of a command stopped by Ctrl-C under ``--json``: ``code``
    ``interrupted``, ``exit_code`` 130, the other fields ``null`` or empty."""
    from rdpipe.cli.machine_output import Kind, document

    error = {"code": "interrupted", "message": INTERRUPTED,
             "exit_code": int(ExitCode.INTERRUPTED), "file": None, "line": None, "field": None,
             "diagnostics": [], "crash_log": None}  # fmt: skip
    return document(Kind.ERROR, {"error": error, "errors": [error]})


def dumps_line(shown: dict[str, object]) -> str:
    """A document on one line, as ``--json`` prints each."""
    from rdpipe.cli.machine_output import dumps

    return dumps(shown, indent=None)


def say_interrupted(err: Console) -> None:
    """Say the word every Ctrl-C of a command ends with, on ``err`` (its standard error)."""
    err.print("interrupted", style="yellow")


def _after_sending(error: BaseException) -> bool:
    """Whether ``error`` says the command had sent a request before it stopped."""
    if isinstance(error, StoppedAfterSending):
        return True
    return isinstance(error, BaseExceptionGroup) and any(map(_after_sending, error.exceptions))


def report_error(error: RdpipeError, context: CommandContext) -> None:
    """``error: `` and the error's message, through the redactor, on standard error."""
    message = context.redactor.redact(str(error))  # one text: a terminal's lines break whole
    context.err.print(Text.assemble(("error:", "bold red"), " ", message))


def _leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside task groups' wrappers (``error`` itself when it is no group)."""
    if not isinstance(error, BaseExceptionGroup):
        return [error]
    return [leaf for item in error.exceptions for leaf in _leaves(item)]


def _interrupted(error: BaseException) -> bool:
    """Whether Ctrl-C (or the cancellation it causes) is among what ``error`` carries."""
    # No import here: a Ctrl-C that cut an import short (asyncio's, say) leaves that package
    # half-loaded, and importing it again would fail with a NameError instead.
    asyncio = sys.modules.get("asyncio")
    cancelled = getattr(asyncio, "CancelledError", KeyboardInterrupt)
    kinds = (KeyboardInterrupt, cancelled)
    return any(isinstance(leaf, kinds) or _hides_interrupt(leaf) for leaf in _leaves(error))


def _hides_interrupt(error: BaseException) -> bool:
    """Whether a Ctrl-C is behind ``error``: in its chain, or named in its text.

    Native code that calls back into Python reports a Ctrl-C landing there as its own error:
    pydantic-core building a model's schema while its module loads raises a ``SchemaError``
    whose message ends in ``KeyboardInterrupt:``, with nothing chained.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt) or "KeyboardInterrupt" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _crash_report(
    error: BaseException, state_dir: Path | None, context: CommandContext
) -> RdpipeError:
    from rdpipe.cli.crash import report_crash

    return report_crash(
        error,
        state_dir=state_dir,
        environ=context.environ,
        argv=sys.argv,
        redactor=context.redactor,
    )
