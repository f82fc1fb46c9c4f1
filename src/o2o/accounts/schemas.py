from __future__ import annotations

from pydantic import BaseModel, Field

# A plain pattern rather than EmailStr: the email-validator package is not worth a dependency.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$"


class RegisterRequest(BaseModel):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=8, max_length=256)
    display_name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{6,20}$")
    locale: str = Field(default="en", pattern=r"^(en|zh)$")


class TokenRequest(BaseModel):
    login: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth 2 token type, not a secret)
    expires_at: str


class MembershipRead(BaseModel):
    merchant_id: int
    role: str
    store_ids: list[int]


class MeRead(BaseModel):
    id: int
    email: str
    display_name: str
    phone: str | None
    locale: str
    roles: list[str]
    memberships: list[MembershipRead]
