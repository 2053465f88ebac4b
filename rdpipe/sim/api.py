"""The API origin: the relay's routes, the media host's, the account's, and their error formats.

The submit and task routes pass the per-key concurrency gate (:mod:`rdpipe.sim.gate`) after
the key is checked, as new-api's middleware does.
"""

from __future__ import annotations

import json

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rdpipe.sim.account_routes import account_routes
from rdpipe.sim.auth import authorize
from rdpipe.sim.clips import ClipResponse
from rdpipe.sim.media_routes import media_routes
from rdpipe.sim.responses import Rejection, invalid_request, openai_error, relay_error
from rdpipe.sim.state import SimState
from rdpipe.sim.storage import replaced_body
from rdpipe.sim.tasks import Task, TaskLifecycle
from rdpipe.sim.validation import no_channel, parse_submission
from rdpipe.sim.views import (
    ENVELOPE_STATUS,
    generation_envelope,
    model_list,
    submit_answer,
    video_object,
)


def _task_or_400(request: Request, state: SimState) -> Task:
    task = state.task(request.path_params["task_id"])
    if task is None:
        raise relay_error(400, "task_not_exist", "task_not_exist")
    state.observe(task)
    return task


def build_api_app(state: SimState) -> Starlette:
    """The API origin's ASGI app."""

    async def submit(request: Request) -> Response:
        async with state.gate.slot(authorize(request, state.config.api_key)):
            try:
                body = json.loads(await request.body())
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise invalid_request("request body is not valid JSON") from None
            # A worker thread: hosted reference images are read from disk and decoded.
            if isinstance(body, dict) and body.get("model") in state.faults.channels_down:
                raise no_channel(str(body["model"]))
            submission = await anyio.to_thread.run_sync(parse_submission, body, state.media)
            task = state.submit(submission)
            return JSONResponse(submit_answer(task))

    async def get_video(request: Request) -> Response:
        async with state.gate.slot(authorize(request, state.config.api_key)):
            task = _task_or_400(request, state)
            now = state.clock()
            state.settle_task(task, now)
            return JSONResponse(video_object(task, now, state.download_url(task, now)))

    async def get_generation(request: Request) -> Response:
        async with state.gate.slot(authorize(request, state.config.api_key)):
            task = _task_or_400(request, state)
            now = state.clock()
            state.settle_task(task, now)
            return JSONResponse(generation_envelope(task, now, state.download_url(task, now)))

    async def get_content(request: Request) -> Response:
        authorize(request, state.config.api_key)
        task = state.task(request.path_params["task_id"])
        if task is None:
            raise openai_error(404, "Task not found", kind="invalid_request_error")
        state.observe(task)
        lifecycle = task.lifecycle(state.clock())
        if lifecycle is not TaskLifecycle.COMPLETED or task.clip is None:
            raise openai_error(
                400,
                f"Task is not completed yet, current status: {ENVELOPE_STATUS[lifecycle]}",
                kind="invalid_request_error",
            )
        replacement = state.faults.stored_body
        if replacement is not None and "content" in replacement.endpoints:
            return await replaced_body(replacement, task.clip)
        head = request.method == "HEAD"
        return ClipResponse(task.clip, request.headers.get("range"), head=head)

    async def list_models(request: Request) -> Response:
        authorize(request, state.config.api_key)
        return JSONResponse(model_list())

    routes = [
        Route("/v1/video/generations", submit, methods=["POST"]),
        Route("/v1/video/generations/{task_id}", get_generation, methods=["GET"]),
        Route("/v1/videos/{task_id}", get_video, methods=["GET"]),
        Route("/v1/videos/{task_id}/content", get_content, methods=["GET", "HEAD"]),
        Route("/v1/models", list_models, methods=["GET"]),
        *media_routes(state.media, state.config.api_key, state.url_lifetime),
        *account_routes(state),
    ]
    handlers = {Rejection: _rejection_response, HTTPException: _routing_error}
    return Starlette(routes=routes, exception_handlers=handlers)


async def _rejection_response(request: Request, error: Exception) -> Response:
    assert isinstance(error, Rejection)
    return error.to_response()


async def _routing_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    message = f"Invalid URL ({request.method} {request.url.path})"
    if error.status_code == 405:
        message = f"Method {request.method} not allowed on {request.url.path}"
    return openai_error(error.status_code, message, kind="invalid_request_error").to_response()
