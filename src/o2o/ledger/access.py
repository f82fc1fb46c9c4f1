"""Who may read a merchant's money: its owners and managers, and platform admins.

A settlement covers every store of the merchant, so a manager scoped to some stores does not
see it (nor, through it, the other stores' sales)."""

from __future__ import annotations

from o2o.accounts.exceptions import NotAllowed
from o2o.accounts.models import MemberRole
from o2o.accounts.principal import Principal

READERS = (MemberRole.OWNER, MemberRole.MANAGER)


def may_read(principal: Principal, merchant_id: int) -> bool:
    if principal.is_platform_admin:
        return True
    grant = principal.grant_for(merchant_id)
    return grant is not None and grant.role in READERS and not grant.store_ids


def require_reader(principal: Principal, merchant_id: int) -> None:
    """Refuse (403) anyone but the merchant's owners, its managers of every store, and admins."""
    if not may_read(principal, merchant_id):
        raise NotAllowed(
            "Only the merchant's owners and managers of all its stores see its settlements."
        )
