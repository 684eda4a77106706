"""Column types, mixins and query helpers shared by every model."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from uuid6 import uuid7

from marketplace.extensions import db

T = TypeVar("T")
#: The Python type of a transition record's two statuses.
E = TypeVar("E")


#: The moment `clock_at` sets for the code it runs; None: the real clock.
_SET_NOW: ContextVar[datetime | None] = ContextVar("marketplace_set_now", default=None)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC (inside `clock_at`, the moment it sets)."""
    return _SET_NOW.get() or datetime.now(UTC)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run the block as if it were `moment`: what the services write in it is dated then.
    The demo data uses it to lay down weeks of history; requests never do."""
    token = _SET_NOW.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _SET_NOW.reset(token)


def new_id() -> uuid.UUID:
    """A time-ordered UUID (v7): public, unguessable, index-friendly."""
    return uuid.UUID(bytes=uuid7().bytes)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone, so values are normalised to UTC on the way in and
    marked UTC on the way out; PostgreSQL stores `timestamptz`.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class IdMixin:
    """A UUID primary key, generated in Python so it is known before flush."""

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)


class TimestampMixin:
    """Creation and last-update times in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class TransitionMixin(IdMixin, Generic[E]):
    """One recorded step of an entity's life: from which status to which, who moved it,
    when and why. A subclass says whose steps it records, and nothing else:

        class TaskTransition(TransitionMixin[TaskStatus], Model, of="tasks", status=TaskStatus):

    makes the table `task_transitions` with a `task_id` key to `tasks` (indexed, and
    deleted with the task)."""

    status_enum: ClassVar[type[StrEnum]]
    #: The column naming the entity whose step this is (`task_id`...).
    owner_key: ClassVar[str]

    def __init_subclass__(
        cls, *, of: str | None = None, status: type[StrEnum] | None = None, **kwargs: Any
    ) -> None:
        # Set before the declarative base maps the class (the base's hook runs after this).
        # A subclass without `of` records many entities' steps and declares its own table.
        if of is None or status is None:
            super().__init_subclass__(**kwargs)
            return
        owner = of.removesuffix("s")
        cls.__tablename__ = f"{owner}_transitions"  # type: ignore[attr-defined]
        cls.status_enum = status
        cls.owner_key = f"{owner}_id"
        setattr(
            cls,
            f"{owner}_id",
            mapped_column(
                sa.Uuid, sa.ForeignKey(f"{of}.id", ondelete="CASCADE"), index=True, nullable=False
            ),
        )
        super().__init_subclass__(**kwargs)

    @classmethod
    def status_type(cls, name: str) -> sa.types.TypeEngine[Any]:
        """The column type of `from_status` and `to_status`; `name` names its CHECK."""
        return enum_type(cls.status_enum, name=name)

    @declared_attr
    def from_status(cls) -> Mapped[E | None]:
        """The status left; None for the first step (the entity's creation)."""
        return mapped_column(cls.status_type("from_status"), nullable=True)

    @declared_attr
    def to_status(cls) -> Mapped[E]:
        """The status reached."""
        return mapped_column(cls.status_type("to_status"), nullable=False)

    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


#: An integer array: PostgreSQL's `integer[]` (GIN-indexable), a JSON list on SQLite.
INT_ARRAY = sa.JSON().with_variant(postgresql.ARRAY(sa.Integer()), "postgresql")


def bit_string(length: int) -> sa.types.TypeEngine[str]:
    """A fixed-length string of 0s and 1s: PostgreSQL's `bit(n)`, a VARCHAR on SQLite."""
    return sa.String(length).with_variant(postgresql.BIT(length), "postgresql")


class bit_and_count(sa.sql.functions.GenericFunction[int]):
    """How many positions two `bit_string`s of one length both set: `bit_count(a & b)` on
    PostgreSQL, a function of the same name that `add_sqlite_functions` gives SQLite."""

    type = sa.Integer()
    inherit_cache = True


@compiles(bit_and_count, "postgresql")
def _bit_and_count_postgresql(element: bit_and_count, compiler: SQLCompiler, **kw: Any) -> str:
    first, second = element.clauses
    return f"bit_count({compiler.process(first, **kw)} & {compiler.process(second, **kw)})"


def _bit_and_count(first: str | None, second: str | None) -> int | None:
    if first is None or second is None:
        return None
    return (int(first, 2) & int(second, 2)).bit_count()


def add_sqlite_functions(engine: sa.Engine) -> None:
    """Give SQLite connections the functions the queries use that it lacks
    (`bit_and_count`): a Python function on every new connection."""

    @sa.event.listens_for(engine, "connect")
    def _add_functions(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.create_function("bit_and_count", 2, _bit_and_count, deterministic=True)


def is_postgresql() -> bool:
    """Whether the bound database is PostgreSQL (row locks, full-text search)."""
    return db.engine.dialect.name == "postgresql"


def lock_row(model: type[T], row_id: uuid.UUID) -> T:
    """The row, locked for this transaction (`SELECT ... FOR UPDATE`) and read afresh even
    if the session already holds it; NoResultFound if it does not exist."""
    return db.session.scalars(
        sa.select(model)
        .where(model.id == row_id)  # type: ignore[attr-defined]
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def commit_keeping_values() -> None:
    """Commit, keeping what the session's objects hold instead of expiring it: for a caller
    that goes on with the rows it just locked or wrote (to answer with them, or to call a
    gateway between two transactions), where reading each back would cost a statement.
    Rows that must be read afresh later are locked again with `lock_row` (or another
    `populate_existing` read), as every state change does anyway."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def enum_type(enum: type[Any], length: int = 20, name: str | None = None) -> sa.Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint of the enum's values.

    `name` names the CHECK constraint; give one when a table has two columns of one enum.
    """
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=True,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        name=name or enum.__name__.lower(),
    )


def serialize_sqlite_transactions(engine: sa.Engine) -> None:
    """Make SQLite transactions take the write lock at BEGIN (`BEGIN IMMEDIATE`).

    SQLite ignores `SELECT ... FOR UPDATE`, and pysqlite starts a transaction only at
    the first write, so two requests could both read a row before either changes it.
    Taking the lock up front serializes transactions, which makes the lock-then-check
    code of the services as safe on the embedded database as on PostgreSQL (SQLite
    allows one writer at a time anyway). This is SQLAlchemy's documented recipe.
    """

    @sa.event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin_immediate(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
