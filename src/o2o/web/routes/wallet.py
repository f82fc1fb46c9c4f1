"""The demo wallet's screen: what a wallet app shows after scanning the checkout QR.

It stands in for another company's app (Alipay, WeChat Pay), so it needs no O2O login: the
token in the QR's link is what lets it open the payment. Confirming marks the wallet's trade
paid; the order only becomes paid when the wallet's signed notification reaches the platform
(through the relay), exactly as with a real wallet.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from o2o.core.errors import DomainError
from o2o.http.deps import IdPath, SessionDep, kick_relay, providers_of
from o2o.merchants import service as merchants_service
from o2o.orders import paying as orders_paying
from o2o.payments import demo_wallet
from o2o.web import deps
from o2o.web.errors import CODES
from o2o.web.render import gettext, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(deps.check_csrf)])
Token = Annotated[str, Query(min_length=1, max_length=64)]


async def _page(
    request: Request,
    session: SessionDep,
    payment_id: int,
    token: str,
    *,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    wallet = demo_wallet.wallet_in(providers_of(request))
    trade = await wallet.trade_for(session, payment_id=payment_id, token=token)
    orders = await orders_paying.orders_of_payment(session, payment_id=payment_id)
    merchants = []
    for merchant_id in dict.fromkeys(o.merchant_id for o in orders):
        merchants.append(await merchants_service.get_merchant(session, merchant_id=merchant_id))
    return render(
        request,
        "shopper/wallet.html",
        {
            "trade": trade,
            "merchants": merchants,
            "token": token,
            "payment_id": payment_id,
            "problem": problem,
        },
        status=status,
    )


@router.get("/wallet/demo/{payment_id}")
async def wallet_page(
    request: Request, session: SessionDep, payment_id: IdPath, t: Token
) -> Response:
    return await _page(request, session, payment_id, t)


@router.post("/wallet/demo/{payment_id}")
async def wallet_pay(
    request: Request,
    session: SessionDep,
    payment_id: IdPath,
    t: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    """The big "Pay" button. Paying twice is harmless: the trade is paid once."""
    wallet = demo_wallet.wallet_in(providers_of(request))
    try:
        await wallet.confirm(session, payment_id=payment_id, token=t)
    except DomainError as exc:
        await session.rollback()
        if exc.status >= 500 or exc.code not in CODES or exc.status == 404:
            raise
        message = gettext(request, CODES[exc.code])
        return await _page(request, session, payment_id, t, problem=message, status=409)
    await session.commit()
    kick_relay(request)
    return redirect(request, f"/wallet/demo/{payment_id}?t={t}")
