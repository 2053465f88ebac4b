"""The account's routes on the API origin: prices, display currency and balance (§11, §13).

``GET /api/pricing`` and ``GET /api/status`` are public (no key). The three balance routes want
the key and, as new-api's, answer errors with HTTP 200 and an ``error`` object
(``SimConfig.balance_error``). Reading the balance settles the tasks finished by then first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rdpipe.sim.auth import authorize
from rdpipe.sim.billing import (
    BALANCE_ERROR,
    Account,
    JsonObject,
    credits_document,
    subscription_document,
    usage_document,
)
from rdpipe.sim.pricing import pricing_document, status_document

if TYPE_CHECKING:
    from rdpipe.sim.state import SimState

Endpoint = Callable[[Request], Awaitable[Response]]


def account_routes(state: SimState) -> list[Route]:
    """The five routes: pricing, status, subscription, usage, credits."""
    config = state.config

    async def pricing(request: Request) -> Response:
        return JSONResponse(pricing_document(config.pricing_version))

    async def status(request: Request) -> Response:
        return JSONResponse(status_document(config.display_currency, state.started_at))

    def balance(document: Callable[[Account, str], JsonObject]) -> Endpoint:
        async def answer(request: Request) -> Response:
            authorize(request, config.api_key)
            if config.balance_error:
                return JSONResponse(BALANCE_ERROR)
            state.settle(state.clock())
            return JSONResponse(document(state.account, config.display_currency))

        return answer

    return [
        Route("/api/pricing", pricing, methods=["GET"]),
        Route("/api/status", status, methods=["GET"]),
        Route(
            "/v1/dashboard/billing/subscription",
            balance(subscription_document),
            methods=["GET"],
        ),
        Route("/v1/dashboard/billing/usage", balance(usage_document), methods=["GET"]),
        Route("/v1/credits", balance(credits_document), methods=["GET"]),
    ]
