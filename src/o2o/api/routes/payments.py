"""Payment providers' side: notifications, and the demo wallet's approve action."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from o2o.api.deps import IdPath, PrincipalDep, SessionDep
from o2o.api.routes.orders import PaymentRead, payment_read
from o2o.http.deps import kick_relay, policy_of, providers_of
from o2o.orders import paying as orders_paying
from o2o.payments import demo_wallet
from o2o.payments import service as payments_service
from o2o.payments.exceptions import PaymentNotFound
from o2o.payments.models import NotificationOutcome

router = APIRouter(tags=["payments"])
MAX_NOTIFICATION = 64 * 1024


class WalletConfirm(BaseModel):
    token: str = Field(min_length=1, max_length=64, description="The token in the QR's link")


class WalletTradeRead(BaseModel):
    payment_id: int
    trade_no: str
    amount: int
    currency: str
    status: str


async def _read_at_most(request: Request, limit: int) -> bytes:
    """The body, but never more than ``limit`` bytes of it (a chunked body has no length)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) >= limit:
            break
    return bytes(body[:limit])


@router.get("/payments/{payment_id}", response_model=PaymentRead)
async def get_payment(
    session: SessionDep, principal: PrincipalDep, payment_id: IdPath
) -> PaymentRead:
    """The caller's payment and its state (pages poll or stream the order instead)."""
    payment = await payments_service.get_payment(session, payment_id=payment_id)
    if payment.payer_user_id != principal.user_id:
        raise PaymentNotFound(f"There is no payment {payment_id}.")
    orders = await orders_paying.orders_of_payment(session, payment_id=payment.id)
    return payment_read(payment, [o.id for o in orders])


@router.post("/payments/demo/{payment_id}/confirm", response_model=WalletTradeRead)
async def demo_wallet_confirm(
    request: Request, session: SessionDep, payment_id: IdPath, body: WalletConfirm
) -> WalletTradeRead:
    """The demo wallet's "Pay" button. The wallet then notifies the platform asynchronously;
    the order becomes paid when that notification is verified, not here."""
    wallet = demo_wallet.wallet_in(providers_of(request))
    trade = await wallet.confirm(session, payment_id=payment_id, token=body.token)
    out = WalletTradeRead(
        payment_id=payment_id,
        trade_no=trade.trade_no,
        amount=trade.amount,
        currency=trade.currency,
        status=trade.status,
    )
    await session.commit()
    kick_relay(request)
    return out


@router.post(
    "/payments/{provider}/notify",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, 400: {"content": {"text/plain": {}}}},
)
async def provider_notify(
    request: Request, session: SessionDep, provider: str
) -> PlainTextResponse:
    """A provider's asynchronous payment notification. Verified (signature, freshness,
    amount); replays change nothing; every notification is logged with its outcome. The
    answer is what the provider expects (``success`` when handled)."""
    chosen = providers_of(request).get(provider)
    length = request.headers.get("content-length", "")
    too_large = length.isdigit() and int(length) > MAX_NOTIFICATION
    body = b"" if too_large else await _read_at_most(request, MAX_NOTIFICATION + 1)
    if too_large or len(body) > MAX_NOTIFICATION:
        # Refused unread, but still logged: every rejected notification leaves a trace.
        await payments_service.reject_notification(session, provider=chosen, reason="too_large")
        await session.commit()
        ack = chosen.acknowledge(accepted=False)
        return PlainTextResponse(ack.body, status_code=413, media_type=ack.media_type)
    headers = {k.lower(): v for k, v in request.headers.items()}
    result = await payments_service.accept_notification(
        session, provider=chosen, headers=headers, body=body
    )
    if result.outcome == NotificationOutcome.APPLIED and result.payment is not None:
        await orders_paying.apply_payment(
            session,
            payment=result.payment,
            providers=providers_of(request),
            policy=policy_of(request),
        )
    await session.commit()
    kick_relay(request)
    ack = chosen.acknowledge(accepted=result.outcome != NotificationOutcome.REJECTED)
    return PlainTextResponse(ack.body, status_code=ack.status, media_type=ack.media_type)
