from __future__ import annotations

from fastapi import APIRouter

from o2o.api.deps import SessionDep
from o2o.regions import service as regions_service
from o2o.regions.schemas import RegionRead

router = APIRouter(tags=["regions"])


@router.get("/regions", response_model=list[RegionRead])
async def list_regions(session: SessionDep) -> list[RegionRead]:
    """Cities a shopper can pick."""
    return [regions_service.to_read(r) for r in await regions_service.list_regions(session)]
