"""The future-industry field taxonomy: six directions and their fields (loaded by migration from the 2024 list)."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hall.extensions import Model


class Direction(Model):
    """One of the six future-industry directions (manufacturing, information, materials, energy, space, health)."""

    __tablename__ = "industry_directions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    fields: Mapped[list[IndustryField]] = relationship(back_populates="direction",
                                                       order_by="IndustryField.position")


class IndustryField(Model):
    """A named sub-field of a direction, under a stable code such as ``energy.hydrogen``."""

    __tablename__ = "industry_fields"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    direction_code: Mapped[str] = mapped_column(ForeignKey("industry_directions.code"), index=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    direction: Mapped[Direction] = relationship(back_populates="fields")
