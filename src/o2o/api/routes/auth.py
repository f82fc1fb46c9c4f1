from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, status

from o2o.accounts import service as accounts_service
from o2o.accounts.exceptions import InvalidToken
from o2o.accounts.models import TokenKind, User
from o2o.accounts.principal import Principal
from o2o.accounts.schemas import (
    MembershipRead,
    MeRead,
    RegisterRequest,
    TokenRequest,
    TokenResponse,
)
from o2o.api.deps import PrincipalDep, SessionDep, SettingsDep

router = APIRouter(tags=["accounts"])


@router.post("/auth/register", response_model=MeRead, status_code=status.HTTP_201_CREATED)
async def register(body: RegisterRequest, session: SessionDep) -> MeRead:
    """Create a shopper account."""
    user = await accounts_service.register(
        session,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        phone=body.phone,
        locale=body.locale,
    )
    principal = await accounts_service.principal_for_user(session, user=user)
    await session.commit()
    return _me(user, principal)


@router.post("/auth/token", response_model=TokenResponse)
async def token(body: TokenRequest, session: SessionDep, settings: SettingsDep) -> TokenResponse:
    """Exchange a login (email or phone) and password for a bearer token."""
    user = await accounts_service.authenticate(session, login=body.login, password=body.password)
    token, expires_at = await accounts_service.issue_token(
        session,
        user_id=user.id,
        kind=TokenKind.API,
        ttl=timedelta(hours=settings.token_ttl_hours),
    )
    await session.commit()
    return TokenResponse(access_token=token, expires_at=expires_at.isoformat())


@router.get("/me", response_model=MeRead)
async def me(principal: PrincipalDep, session: SessionDep) -> MeRead:
    """The caller, with roles and merchant memberships."""
    user = await accounts_service.get_user(session, user_id=principal.user_id)
    if user is None:  # deleted between the token check and now
        raise InvalidToken("The account no longer exists.")
    return _me(user, principal)


def _me(user: User, principal: Principal) -> MeRead:
    return MeRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        phone=user.phone,
        locale=user.locale,
        roles=principal.roles,
        memberships=[
            MembershipRead(
                merchant_id=g.merchant_id, role=g.role.value, store_ids=sorted(g.store_ids)
            )
            for g in principal.grants
        ],
    )
