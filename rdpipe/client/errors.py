"""The client's errors: each names a state the user can act on and composes its own message.

Three outcomes of a request are kept apart, because they decide whether a paid submit may go out
again: :class:`NotSent` (the connection never opened: safe to retry), an :class:`ApiError`
(the server answered and refused, with its reason), and :class:`NoAnswer` (the request went out
and nothing usable came back). For a submit, ``NoAnswer`` and a 5xx become
:class:`SubmitOutcomeUnknown`, which is never retried.
"""

from __future__ import annotations

from rdpipe.errors import ExitCode, RdpipeError
from rdpipe.redaction import redact

_KEY_HINT = "Check RELAYDANCE_API_KEY (keys look like sk-...)."


class RelayDanceError(RdpipeError):
    """Root of every error the RelayDance client raises."""


class NotSent(RelayDanceError):
    """The connection to the server could not be opened, so the request never left."""

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        self.reason = reason
        super().__init__(
            f"could not reach RelayDance for {operation}: {reason}; nothing was sent.",
            hint="Check your network connection and RELAYDANCE_BASE_URL.",
        )


class RequestNotBuilt(NotSent):
    """The request could not be put together (a header or URL the HTTP library refuses).

    Nothing left the machine, so nothing was billed; sending it again would fail the same way,
    so it is not retried.
    """

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        self.reason = reason
        RelayDanceError.__init__(
            self,
            f"rdpipe could not build the request {operation}: {reason}; nothing was sent.",
            hint="Check RELAYDANCE_API_KEY and RELAYDANCE_BASE_URL, then run again.",
        )


class MediaHostUnreachable(RelayDanceError):
    """The connection to the media host (upload URLs, the asset library) could not be opened.

    Unlike :class:`NotSent` it concerns only the files that need hosting: shots that send no
    local file go on. ``host`` is the media host's ``host[:port]``, ``reason`` the network's.
    """

    def __init__(self, operation: str, reason: str, *, host: str) -> None:
        self.operation = operation
        self.reason = reason
        self.host = host
        super().__init__(
            f"could not reach the media host {host} (RELAYDANCE_MEDIA_URL) for {operation}: "
            f"{reason}; the request never left.",
            hint=(
                "Check your network connection and RELAYDANCE_MEDIA_URL, the media host for "
                "uploads and portraits (unset, it goes with RELAYDANCE_BASE_URL). Only shots "
                "that send local files need it."
            ),
        )


class NoAnswer(RelayDanceError):
    """The request was sent but no complete answer came back (timeout, dropped connection)."""

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        self.reason = reason
        super().__init__(f"no answer from RelayDance for {operation}: {reason}.")


class MalformedResponse(RelayDanceError):
    """The server answered 2xx with a body the client cannot read."""

    def __init__(self, operation: str, problem: str) -> None:
        self.operation = operation
        self.problem = problem
        super().__init__(f"RelayDance sent an unreadable answer to {operation}: {problem}.")


class ApiError(RelayDanceError):
    """The server answered with an error status; ``server_message`` is its stated reason."""

    def __init__(
        self,
        operation: str,
        status: int,
        code: str | None,
        server_message: str,
        *,
        retry_after: float | None = None,
        task_id: str | None = None,
    ) -> None:
        self.operation = operation
        self.status = status
        self.code = code
        self.server_message = server_message
        self.retry_after = retry_after
        self.task_id = task_id
        super().__init__(self._headline(), hint=self._hint())

    def _reason(self) -> str:
        label = f"{self.status} {self.code}" if self.code else str(self.status)
        said = f": {self.server_message}" if self.server_message else ""
        return f"({label}){said}"

    def _headline(self) -> str:
        return f"RelayDance answered {self.operation} with an error {self._reason()}"

    def _hint(self) -> str | None:
        return None


class AuthenticationFailed(ApiError):
    """The API key was refused (401): wrong, revoked or exhausted."""

    exit_code = ExitCode.INVALID_INPUT

    def _headline(self) -> str:
        return f"RelayDance refused the API key {self._reason()}"

    def _hint(self) -> str:
        return _KEY_HINT


class QuotaExceeded(ApiError):
    """The account has no balance or quota left (402/403)."""

    def _headline(self) -> str:
        return f"the RelayDance account is out of quota {self._reason()}"

    def _hint(self) -> str:
        return "Top up the balance on relaydance.com, or run fewer shots."


class InvalidRequest(ApiError):
    """The server rejected the request as invalid (400), so nothing was generated or billed."""

    exit_code = ExitCode.INVALID_INPUT

    def _headline(self) -> str:
        return f"RelayDance rejected {self.operation} as invalid {self._reason()}"

    def _hint(self) -> str:
        return "Fix the shot's parameters (model, seconds, ratio, references) and run again."


class ModelNotServed(InvalidRequest):
    """The server serves no model by the id the request names (``503 model_not_found``,
    relaydance-api.md §6): nothing was generated or billed, and the same request is refused
    again until the shot names another model."""

    def _headline(self) -> str:
        return (
            f"RelayDance does not serve the model this shot names {self._reason()}; change it "
            "to one `rdpipe models` lists (sent again unchanged, it is refused again)"
        )

    def _hint(self) -> str:
        return "`rdpipe models` lists the models RelayDance serves."


class TaskNotFound(ApiError):
    """The server does not know the task id (400 ``task_not_exist`` or 404)."""

    def _headline(self) -> str:
        return f"RelayDance has no task {self.task_id or '(unknown id)'} {self._reason()}"

    def _hint(self) -> str:
        return "The task may belong to another API key, or it has expired on the server."


class RateLimited(ApiError):
    """The server asked the client to slow down (429)."""

    def _headline(self) -> str:
        wait = "" if self.retry_after is None else f"; it asked to wait {self.retry_after:g} s"
        return f"RelayDance is rate limiting {self.operation} {self._reason()}{wait}"

    def _hint(self) -> str:
        return "rdpipe already retried with back-off; lower the concurrency or try again later."


class ServerError(ApiError):
    """The server or the upstream behind it failed (5xx)."""

    def _headline(self) -> str:
        return f"RelayDance failed while handling {self.operation} {self._reason()}"

    def _hint(self) -> str:
        return "This is on the server's side; try again in a few minutes."


class ConcurrencyLimitReached(RateLimited):
    """The relay's per-key concurrency gate refused the request: 429 with the OpenAI-style
    code ``token_concurrency_limit_reached`` and no ``Retry-After`` (relaydance-api.md §13).

    The gate counts the requests of one key in flight at once, task polls as well as submits.
    The request was refused before it reached the relay: a submit created nothing. The client
    does not retry it and sets no cool-down for the host: the caller lowers its concurrency
    (the scheduler's adaptive gate) and tries again.
    """

    def _headline(self) -> str:
        return (
            f"RelayDance's concurrency limit for this key was reached on {self.operation} "
            f"{self._reason()}"
        )

    def _hint(self) -> str:
        return (
            "Too many requests with this key were in flight at once; lower --concurrency (-j), "
            "or stop other runs that use the same key."
        )


class GateUnavailable(ServerError):
    """The relay's concurrency gate could not be consulted: 503 with the code
    ``token_concurrency_unavailable`` (relaydance-api.md §13).

    Retryable: the gate refused before the relay handled anything, so even a submit answered
    this way created nothing and goes out again (it never becomes
    :class:`SubmitOutcomeUnknown`).
    """

    def _headline(self) -> str:
        reason = self._reason()
        return f"RelayDance's concurrency gate was unavailable for {self.operation} {reason}"


class BalanceUnavailable(RelayDanceError):
    """The relay could not tell the account's balance (relaydance-api.md §13).

    Its balance endpoints answer errors with HTTP **200** and ``{"error": {"message",
    "type"}}`` (new-api); an endpoint it lacks answers 404. ``failures`` lists, per endpoint
    asked (``"billing/subscription"``, ``"credits"``), what it answered: the server's message,
    or the error status. The key never appears in it.
    """

    def __init__(self, failures: tuple[tuple[str, str], ...]) -> None:
        self.failures = failures
        said = "; ".join(f"{endpoint}: {why.rstrip('.')}" for endpoint, why in failures)
        super().__init__(
            f"RelayDance could not tell the account's balance ({said}).",
            hint="Look at the balance on the relay's web site (relaydance.com for RelayDance).",
        )

    @property
    def server_message(self) -> str:
        """The reasons the endpoints gave, in the order asked, joined by ``"; "``."""
        return "; ".join(why for _, why in self.failures)


class SubmitOutcomeUnknown(RelayDanceError):
    """A submit was sent but its outcome is unknown: a task may exist, and may be billed."""

    def __init__(self, operation: str, reason: str) -> None:
        self.operation = operation
        self.reason = reason
        super().__init__(
            f"the submit ({operation}) was sent but its outcome is unknown ({reason}); "
            "a task may have been created and billed.",
            hint=(
                "rdpipe does not resubmit it on its own, to avoid paying twice. "
                "Check the task list on relaydance.com before running the shot again."
            ),
        )


class DownloadIncomplete(RelayDanceError):
    """A download ended with fewer (or more) bytes than the server announced."""

    def __init__(
        self, url_label: str, expected: int, received: int, content_type: str | None = None
    ) -> None:
        self.url_label = url_label
        self.expected = expected
        self.received = received
        self.content_type = content_type
        kind = f" of {content_type}" if content_type else ""
        super().__init__(
            f"the download from {url_label} ended at {received} of {expected} bytes{kind}.",
            hint="The connection was cut; run again to resume.",
        )


class LinkExpired(RelayDanceError):
    """The storage host refused a signed video URL (403/404): it has most likely expired."""

    def __init__(self, url_label: str, status: int) -> None:
        self.url_label = url_label
        self.status = status
        super().__init__(f"the video link on {url_label} was refused ({status}); it has expired.")


class TaskNotFinished(RelayDanceError):
    """A download was asked for a task that has not succeeded (yet)."""

    def __init__(self, task_id: str, state: str) -> None:
        self.task_id = task_id
        self.state = state
        super().__init__(f"task {task_id} has no video to download: it is {state}.")


class UploadRefused(RelayDanceError):
    """The media host will not hand out an upload URL for this kind of file.

    ``extension`` is the file's (lower case, no dot). ``message`` is the relay's own reason
    (for a relay without any upload route, a sentence saying so), kept as the run state records
    it; ``str()`` is the whole sentence, ``status`` the HTTP status of the refusal.
    """

    def __init__(self, extension: str, reason: str, *, status: int, host: str) -> None:
        self.extension = extension
        self.status = status
        self.host = host
        super().__init__(
            f"RelayDance ({host}) does not take .{extension} uploads: {reason.rstrip('.')}.",
            hint=(
                "Give the reference as an https URL, set up a shared clip store that can "
                "publish it, or (for an image) send it inline."
            ),
        )
        self.message = redact(reason)


class UploadFailed(RelayDanceError):
    """A file could not be uploaded to its presigned URL: the storage refused it (a 4xx, with
    its S3-style ``code`` and ``server_message``), or the file could not be read whole.

    ``url_label`` is the URL's host and path, never its signed query string. ``status`` and
    ``code`` are ``None`` when the storage never answered (``problem`` says what happened).
    """

    def __init__(
        self,
        url_label: str,
        *,
        status: int | None = None,
        code: str | None = None,
        server_message: str = "",
        problem: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.url_label = url_label
        self.status = status
        self.code = code
        self.server_message = server_message
        self.problem = problem
        if problem is not None:
            message = f"the upload to {url_label} failed: {problem}."
        else:
            label = f"{status} {code}" if code else str(status)
            said = f": {server_message.rstrip('.')}" if server_message else ""
            message = f"the storage refused the upload to {url_label} ({label}){said}."
        super().__init__(message, hint=hint or _upload_hint(status, code, problem))


class UploadSourceChanged(UploadFailed):
    """The file changed while it was being sent: it is shorter or longer than the size it was
    checked at, or its bytes no longer have the md5 they were checked with.

    Found before the last byte leaves: the request is broken off, so the storage never gets a
    complete body and stores nothing under the checked md5. ``shown`` names the file as the
    user wrote it; ``change`` says what differs (``"its md5 is no longer the one checked"``).
    Not retried: the file must be checked again first.
    """

    def __init__(self, url_label: str, shown: str, change: str) -> None:
        self.url_label = url_label
        self.status = None
        self.code = None
        self.server_message = ""
        self.problem = change
        self.shown = shown
        RelayDanceError.__init__(
            self,
            f"{shown} changed while rdpipe was sending it ({change}); rerun to check it again.",
            hint="The upload was broken off before its end, so nothing was stored.",
        )


def _upload_hint(status: int | None, code: str | None, problem: str | None) -> str:
    if problem is not None:
        return "Check the file, then run again."
    if status in (408, 429):
        return "The storage was still busy after every retry; run again in a few minutes."
    if code == "BadDigest":
        return (
            "The bytes that arrived are not the ones rdpipe read: the file may have changed "
            "while it was sent. Run again."
        )
    if code == "InvalidContentType":
        return "The storage expected another file type than rdpipe sent; run again."
    if status == 403:
        return "The upload link was refused, most likely expired; run again for a fresh one."
    return "Run again; if it keeps failing, give the reference as an https URL instead."


class AssetNotFound(RelayDanceError):
    """The asset library has no asset with this id (404): it was removed, or belongs to
    another key."""

    def __init__(self, asset_id: str) -> None:
        self.asset_id = asset_id
        super().__init__(
            f"the RelayDance asset library has no portrait {asset_id}.",
            hint="It may have been removed, or registered with another API key.",
        )
