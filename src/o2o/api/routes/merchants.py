"""Merchants, categories, and store management by the merchant's staff."""

from __future__ import annotations

from fastapi import APIRouter, status

from o2o.accounts.models import MemberRole
from o2o.api.deps import IdPath, PrincipalDep, SessionDep
from o2o.inventory import service as inventory_service
from o2o.merchants import queries as store_queries
from o2o.merchants import service as merchants_service
from o2o.merchants.schemas import CategoryRead, MerchantRead, StoreCreate, StoreRead, StoreUpdate

router = APIRouter(tags=["merchants"])


@router.get("/categories", response_model=list[CategoryRead])
async def list_categories(session: SessionDep) -> list[CategoryRead]:
    return [
        CategoryRead.model_validate(c) for c in await merchants_service.list_categories(session)
    ]


@router.get("/merchants/{merchant_id}", response_model=MerchantRead)
async def get_merchant(session: SessionDep, merchant_id: IdPath) -> MerchantRead:
    merchant = await merchants_service.get_merchant(session, merchant_id=merchant_id)
    codes = {c.id: c.code for c in await merchants_service.list_categories(session)}
    return MerchantRead(
        id=merchant.id,
        name=merchant.name,
        name_zh=merchant.name_zh,
        category=codes.get(merchant.category_id) if merchant.category_id else None,
        status=merchant.status.value,
    )


@router.post(
    "/merchants/{merchant_id}/stores", response_model=StoreRead, status_code=status.HTTP_201_CREATED
)
async def create_store(
    session: SessionDep, principal: PrincipalDep, merchant_id: IdPath, body: StoreCreate
) -> StoreRead:
    """Open a store (owners, and managers not scoped to particular stores)."""
    await merchants_service.get_merchant(session, merchant_id=merchant_id)
    grant = principal.require_merchant(merchant_id, (MemberRole.OWNER, MemberRole.MANAGER))
    if grant is not None and grant.store_ids and not principal.is_platform_admin:
        principal.require_merchant(merchant_id, (MemberRole.OWNER,))
    store = await merchants_service.create_store(session, merchant_id=merchant_id, data=body)
    card = (await store_queries.store_cards(session, [store.id]))[store.id]
    await session.commit()
    return card


@router.patch("/stores/{store_id}", response_model=StoreRead)
async def update_store(
    session: SessionDep, principal: PrincipalDep, store_id: IdPath, body: StoreUpdate
) -> StoreRead:
    """Change a store's details, hours, fulfilment or position (owners and its managers)."""
    store = await merchants_service.get_store(session, store_id=store_id)
    principal.require_store(store.merchant_id, store.id, (MemberRole.OWNER, MemberRole.MANAGER))
    # Stock rows carry the store's position and active flag for nearby-with-stock search.
    copied = body.lat is not None or body.lng is not None or body.is_active is not None
    store = await merchants_service.update_store(session, store_id=store_id, data=body)
    if copied:
        await inventory_service.copy_store(session, store=store)
    card = (await store_queries.store_cards(session, [store.id]))[store.id]
    await session.commit()
    return card
