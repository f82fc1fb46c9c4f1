"""Onboarding: regions and merchants (platform admins), staff memberships (owners)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from o2o.accounts import service as accounts_service
from o2o.accounts.exceptions import NotAllowed
from o2o.accounts.models import MemberRole
from o2o.accounts.principal import Principal
from o2o.accounts.schemas import EMAIL_PATTERN
from o2o.api.deps import IdPath, PrincipalDep, SessionDep
from o2o.core.errors import NotFound
from o2o.http.deps import policy_of
from o2o.ledger import access, commission
from o2o.ledger.schemas import CommissionRead, CommissionUpdate
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Merchant, MerchantStatus
from o2o.merchants.schemas import MerchantRead
from o2o.regions import service as regions_service
from o2o.regions.schemas import RegionCreate, RegionRead

router = APIRouter(tags=["onboarding"])


class MerchantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=160)
    name_zh: str = Field(min_length=1, max_length=160)
    category: str | None = None


class MerchantStatusUpdate(BaseModel):
    status: MerchantStatus


class MemberWrite(BaseModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    role: MemberRole
    store_ids: list[int] = Field(default_factory=list, max_length=500)


class MemberRead(BaseModel):
    user_id: int
    email: str
    display_name: str
    role: MemberRole
    store_ids: list[int]


def _require_admin(principal: Principal) -> None:
    if not principal.is_platform_admin:
        raise NotAllowed("Only platform administrators can do this.")


def _merchant_read(
    merchant_id: int, name: str, name_zh: str, status_: MerchantStatus
) -> MerchantRead:
    return MerchantRead(id=merchant_id, name=name, name_zh=name_zh, status=status_.value)


@router.post("/regions", response_model=RegionRead, status_code=status.HTTP_201_CREATED)
async def create_region(
    session: SessionDep, principal: PrincipalDep, body: RegionCreate
) -> RegionRead:
    """Open a new city (platform admins)."""
    _require_admin(principal)
    region = await regions_service.create_region(session, data=body)
    read = regions_service.to_read(region)
    await session.commit()
    return read


@router.post("/merchants", response_model=MerchantRead, status_code=status.HTTP_201_CREATED)
async def apply_as_merchant(
    session: SessionDep, principal: PrincipalDep, body: MerchantCreate
) -> MerchantRead:
    """A user registers a business and becomes its owner; admins' merchants start approved."""
    merchant = await merchants_service.create_merchant(
        session,
        name=body.name,
        name_zh=body.name_zh,
        category=body.category,
        status=MerchantStatus.APPROVED if principal.is_platform_admin else MerchantStatus.PENDING,
    )
    await accounts_service.add_membership(
        session, user_id=principal.user_id, merchant_id=merchant.id, role=MemberRole.OWNER
    )
    read = _merchant_read(merchant.id, merchant.name, merchant.name_zh, merchant.status)
    await session.commit()
    return read


@router.put("/merchants/{merchant_id}/status", response_model=MerchantRead)
async def set_merchant_status(
    session: SessionDep, principal: PrincipalDep, merchant_id: IdPath, body: MerchantStatusUpdate
) -> MerchantRead:
    """Approve or suspend a merchant (platform admins)."""
    _require_admin(principal)
    merchant = await merchants_service.set_merchant_status(
        session, merchant_id=merchant_id, status=body.status
    )
    read = _merchant_read(merchant.id, merchant.name, merchant.name_zh, merchant.status)
    await session.commit()
    return read


def _commission_read(merchant: Merchant, default_bps: int) -> CommissionRead:
    return CommissionRead(
        merchant_id=merchant.id,
        commission_bps=merchant.commission_bps,
        default_bps=default_bps,
        effective_bps=commission.effective_bps(merchant.commission_bps, default_bps),
    )


@router.put("/merchants/{merchant_id}/commission", response_model=CommissionRead)
async def set_commission(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    merchant_id: IdPath,
    body: CommissionUpdate,
) -> CommissionRead:
    """Set a merchant's commission rate in basis points, or null for the platform's default
    (platform admins). Applies to orders paid from now on."""
    _require_admin(principal)
    merchant = await merchants_service.set_commission(
        session, merchant_id=merchant_id, commission_bps=body.commission_bps
    )
    read = _commission_read(merchant, policy_of(request).commission_bps_default)
    await session.commit()
    return read


@router.get("/merchants/{merchant_id}/commission", response_model=CommissionRead)
async def get_commission(
    request: Request, session: SessionDep, principal: PrincipalDep, merchant_id: IdPath
) -> CommissionRead:
    """The merchant's commission rate (admins, and those who read its settlements)."""
    merchant = await merchants_service.get_merchant(session, merchant_id=merchant_id)
    access.require_reader(principal, merchant_id)
    return _commission_read(merchant, policy_of(request).commission_bps_default)


@router.get("/merchants/{merchant_id}/members", response_model=list[MemberRead])
async def list_members(
    session: SessionDep, principal: PrincipalDep, merchant_id: IdPath
) -> list[MemberRead]:
    await merchants_service.get_merchant(session, merchant_id=merchant_id)
    principal.require_merchant(merchant_id, (MemberRole.OWNER, MemberRole.MANAGER))
    return [
        MemberRead(
            user_id=u.id,
            email=u.email,
            display_name=u.display_name,
            role=m.role,
            store_ids=m.store_ids,
        )
        for u, m in await accounts_service.list_members(session, merchant_id=merchant_id)
    ]


@router.put("/merchants/{merchant_id}/members", response_model=MemberRead)
async def put_member(
    session: SessionDep, principal: PrincipalDep, merchant_id: IdPath, body: MemberWrite
) -> MemberRead:
    """Add a registered user as staff, or change their role and stores (owners only)."""
    await merchants_service.get_merchant(session, merchant_id=merchant_id)
    principal.require_merchant(merchant_id, (MemberRole.OWNER,))
    user = await accounts_service.get_user_by_email(session, email=body.email)
    if user is None:
        raise NotFound("No account has this email; ask them to register first.", field="email")
    if user.id == principal.user_id and body.role != MemberRole.OWNER:
        raise NotAllowed("Owners cannot demote themselves; ask another owner.")
    await merchants_service.stores_belong_to(
        session, merchant_id=merchant_id, store_ids=body.store_ids
    )
    membership = await accounts_service.set_membership(
        session, user_id=user.id, merchant_id=merchant_id, role=body.role, store_ids=body.store_ids
    )
    read = MemberRead(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=membership.role,
        store_ids=membership.store_ids,
    )
    await session.commit()
    return read
