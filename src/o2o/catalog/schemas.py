from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

ATTRIBUTE_KEY = r"^[a-z][a-z0-9_]{0,31}$"


class VariantCreate(BaseModel):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")
    barcode: str | None = Field(
        default=None, min_length=4, max_length=64, pattern=r"^[0-9A-Za-z-]+$"
    )
    attributes: dict[str, str] = Field(default_factory=dict)
    price: int = Field(ge=0, le=100_000_000, description="Minor units (fen for CNY)")

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        if len(value) > 8:
            raise ValueError("at most 8 attributes")
        for key, val in value.items():
            if not re.match(ATTRIBUTE_KEY, key):
                raise ValueError(f"attribute name '{key}' must be lower-case letters/digits/_")
            if not 0 < len(val) <= 40:
                raise ValueError(f"attribute '{key}' needs a value of 1-40 characters")
        return value


class VariantUpdate(BaseModel):
    barcode: str | None = Field(default=None, min_length=4, max_length=64)
    price: int | None = Field(default=None, ge=0, le=100_000_000)
    is_active: bool | None = None


class VariantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    product_id: int
    sku: str
    barcode: str | None
    attributes: dict[str, str]
    price: int
    is_active: bool


class PhotoRead(BaseModel):
    id: int
    url: str


class ProductCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    title_zh: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    description_zh: str = Field(default="", max_length=5000)
    brand: str = Field(default="", max_length=120)
    category: str | None = None
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    variants: list[VariantCreate] = Field(min_length=1, max_length=200)


class ProductUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    title_zh: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    description_zh: str | None = Field(default=None, max_length=5000)
    brand: str | None = Field(default=None, max_length=120)
    category: str | None = None
    is_active: bool | None = None


class ProductRead(BaseModel):
    id: int
    merchant_id: int
    title: str
    title_zh: str
    description: str
    description_zh: str
    brand: str
    category: str | None
    currency: str
    price_min: int | None
    price_max: int | None
    attribute_options: dict[str, list[str]]
    photos: list[PhotoRead]
    variants: list[VariantRead]


class ProductSummary(BaseModel):
    id: int
    merchant_id: int
    title: str
    title_zh: str
    brand: str
    category: str | None
    currency: str
    price_min: int | None
    price_max: int | None
    photo_url: str | None
