"""Skills: the taxonomy providers and tasks refer to by slug."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.database import IdMixin
from marketplace.extensions import Model


class Skill(IdMixin, Model):
    """A kind of non-core work, such as `bookkeeping` in `finance`."""

    __tablename__ = "skills"

    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    category: Mapped[str] = mapped_column(sa.String(64), index=True)
    #: A small stable integer, so matching can index skill levels as integer keys.
    number: Mapped[int] = mapped_column(sa.Integer, unique=True)
