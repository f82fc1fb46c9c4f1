"""Who is calling, and what they may touch."""

from __future__ import annotations

from dataclasses import dataclass, field

from o2o.accounts.exceptions import NotAllowed
from o2o.accounts.models import MemberRole


@dataclass(frozen=True)
class Grant:
    merchant_id: int
    role: MemberRole
    store_ids: frozenset[int]  # empty: every store of the merchant


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    display_name: str
    is_platform_admin: bool = False
    is_courier: bool = False
    grants: tuple[Grant, ...] = field(default_factory=tuple)

    @property
    def roles(self) -> list[str]:
        roles = ["shopper"]
        roles.extend(sorted({g.role.value for g in self.grants}))
        if self.is_courier:
            roles.append("courier")
        if self.is_platform_admin:
            roles.append("admin")
        return roles

    def grant_for(self, merchant_id: int) -> Grant | None:
        return next((g for g in self.grants if g.merchant_id == merchant_id), None)

    def require_merchant(
        self, merchant_id: int, roles: tuple[MemberRole, ...] = tuple(MemberRole)
    ) -> Grant | None:
        """Refuse unless the caller works for the merchant in one of ``roles`` (admins pass)."""
        grant = self.grant_for(merchant_id)
        if self.is_platform_admin:
            return grant
        if grant is None or grant.role not in roles:
            raise NotAllowed("You do not have access to this merchant.")
        return grant

    def require_store(
        self,
        merchant_id: int,
        store_id: int,
        roles: tuple[MemberRole, ...] = tuple(MemberRole),
    ) -> None:
        """Refuse unless the caller may act at this store (store-scoped staff only at theirs)."""
        grant = self.require_merchant(merchant_id, roles)
        scoped_out = grant is not None and grant.store_ids and store_id not in grant.store_ids
        if scoped_out and not self.is_platform_admin:
            raise NotAllowed("You do not have access to this store.")

    def can_see_store(self, merchant_id: int, store_id: int) -> bool:
        try:
            self.require_store(merchant_id, store_id)
        except NotAllowed:
            return False
        return True
