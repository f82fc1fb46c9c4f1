"""Stock as clients see it: levels, grid rows, ledger movements, POS sales."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from o2o.inventory.models import MovementKind

MAX_QTY = 1_000_000


class StockSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on_hand: int = Field(ge=0, le=MAX_QTY, description="The counted quantity on hand.")
    note: str = Field(default="", max_length=300)


class StockLevelRead(BaseModel):
    store_id: int
    variant_id: int
    on_hand: int
    reserved: int
    available: int


class StockRow(BaseModel):
    """One row of a store's stock grid: a variant of the merchant and its stock here."""

    variant_id: int
    product_id: int
    sku: str
    barcode: str | None
    title: str
    title_zh: str
    attributes: dict[str, str]
    on_hand: int
    reserved: int
    available: int


class MovementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: MovementKind
    qty_delta: int
    on_hand_after: int
    reference: str
    note: str
    actor_user_id: int | None
    created_at: datetime


class PosSaleLine(BaseModel):
    """One item of an offline sale: exactly one of ``variant_id``, ``barcode`` or ``sku``."""

    model_config = ConfigDict(extra="forbid")

    variant_id: int | None = Field(default=None, ge=1)
    barcode: str | None = Field(default=None, min_length=1, max_length=64)
    sku: str | None = Field(default=None, min_length=1, max_length=64)
    qty: int = Field(gt=0, le=MAX_QTY)

    @model_validator(mode="after")
    def _one_identifier(self) -> PosSaleLine:
        given = [v for v in (self.variant_id, self.barcode, self.sku) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of variant_id, barcode or sku")
        return self


class PosSaleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sale_id: str = Field(min_length=1, max_length=120, description="The POS's own sale id.")
    occurred_at: AwareDatetime
    lines: list[PosSaleLine] = Field(min_length=1, max_length=500)


class PosLineResult(BaseModel):
    line: int
    variant_id: int
    sku: str
    requested: int
    applied: int
    shortfall: int = Field(description="Units sold that stock did not cover: a discrepancy.")
    on_hand: int
    available: int


class PosSaleRead(BaseModel):
    sale_id: str
    store_id: int
    occurred_at: datetime
    lines: list[PosLineResult]
    shortfall: int


class ImportRowError(BaseModel):
    row: int = Field(description="Line number in the file; the header is row 1.")
    column: str | None
    code: str
    message: str


class ImportRowResult(BaseModel):
    row: int
    variant_id: int
    sku: str
    on_hand_before: int
    on_hand: int
    available: int
    delta: int
    status: str = Field(description="'applied' or 'unchanged'")


class ImportReport(BaseModel):
    rows: int
    applied: int
    unchanged: int
    rejected: int
    results: list[ImportRowResult]
    errors: list[ImportRowError]
