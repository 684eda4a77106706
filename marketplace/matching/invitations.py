"""Inviting matched providers to bid on an open task, and the invitations a provider has."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.interfaces import ORMOption

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.bids.models import Bid
from marketplace.errors import BusinessRuleViolation, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.matching import candidates
from marketplace.matching.models import TaskInvitation
from marketplace.matching.ranking import TaskView
from marketplace.matching.services import matchable_task
from marketplace.notifications import services as notifications
from marketplace.pagination import Page, paginate
from marketplace.profiles import services as profiles
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Task
from marketplace.tasks.states import TASK_STATES, TaskStatus

MAX_INVITATIONS = 20  # per task


def summary_options() -> tuple[ORMOption, ...]:
    """What `TaskInvitationSchema` shows of an invitation besides its row, to load with it (a
    page: a bounded number of statements whatever its size): its task with the task's
    client (zone, country, names) and the invited provider with its names; the task's
    skills and languages follow in one statement each, as with every task."""
    return (
        joinedload(TaskInvitation.task, innerjoin=True)
        .joinedload(Task.client_profile, innerjoin=True)
        .options(*profiles.party_options(ClientProfile)),
        joinedload(TaskInvitation.provider_profile, innerjoin=True).options(
            *profiles.party_options(ProviderProfile)
        ),
    )


def invite(
    *, user: User, task_id: uuid.UUID, provider_ids: list[uuid.UUID]
) -> list[TaskInvitation]:
    """Invite providers who match the open task; inviting one twice changes nothing."""
    task = matchable_task(user=user, task_id=task_id)
    if not tasks.is_owner(user, task):
        raise Forbidden("Only the task's client invites providers.")
    task = tasks.locked_task(task.id)  # one inviter at a time keeps the count honest
    TASK_STATES.check("bid", task.status)
    wanted = list(dict.fromkeys(provider_ids))
    existing = {
        i.provider_profile_id: i
        for i in db.session.scalars(
            sa.select(TaskInvitation)
            .where(TaskInvitation.task_id == task.id)
            .options(*summary_options())
        )
    }
    new = [pid for pid in wanted if pid not in existing]
    eligible = candidates.eligible(TaskView.of(task).needs, new) if new else set()
    refused = [str(pid) for pid in new if pid not in eligible]
    if refused:
        raise BusinessRuleViolation(
            "Only providers who match the task can be invited.",
            details={"provider_ids": [f"Does not match the task: {pid}" for pid in refused]},
        )
    if len(existing) + len(new) > MAX_INVITATIONS:
        raise BusinessRuleViolation(
            f"A task can have at most {MAX_INVITATIONS} invitations.",
            details={"provider_ids": [f"{MAX_INVITATIONS - len(existing)} invitations left."]},
        )
    found = {
        p.id: p
        for p in db.session.scalars(sa.select(ProviderProfile).where(ProviderProfile.id.in_(new)))
    }
    for pid in new:
        invitation = TaskInvitation(task=task, provider_profile=found[pid], invited_by=user)
        db.session.add(invitation)
        existing[pid] = invitation
        notifications.tell(
            found[pid],
            email="task_invitation",
            context={"task_title": task.title, "summary": task.summary},
            task_id=task.id,
        )
    try:
        db.session.commit()
    except IntegrityError:  # a racing request invited the same provider: same outcome
        db.session.rollback()
        return invite(user=user, task_id=task_id, provider_ids=provider_ids)
    return [existing[pid] for pid in wanted]


def my_invitations(*, user: User) -> sa.Select[TaskInvitation]:
    """Invitations of the provider the user acts for, newest first."""
    if user.role != Role.PROVIDER:
        raise Forbidden("Only providers are invited to bid.")
    provider = permissions.acting_provider_profile(user)
    return (
        sa.select(TaskInvitation)
        .join(Task, Task.id == TaskInvitation.task_id)
        .where(TaskInvitation.provider_profile_id == provider.id, tasks.poster_is_active_clause())
        .order_by(TaskInvitation.created_at.desc(), TaskInvitation.id.desc())
        .options(*summary_options())
    )


class InvitationStatus(StrEnum):
    """Where an invitation stands, from the invited provider's bids on the task."""

    INVITED = "invited"  # no bid yet; the task still takes bids
    BID = "bid"  # the provider bid on the task (`bid` is its latest bid)
    LAPSED = "lapsed"  # no bid, and the task stopped taking bids (filled, closed, ended)


#: Task statuses in which an unanswered invitation has lapsed (a filled task that reopens
#: makes it an invitation again: the status is worked out when read).
_LAPSING = frozenset(
    {TaskStatus.FILLED, TaskStatus.CLOSED, TaskStatus.CANCELLED, TaskStatus.EXPIRED}
)


@dataclass(frozen=True)
class SentInvitation:
    """An invitation as the task's client sees it: whom, when, and what came of it."""

    id: uuid.UUID
    task_id: uuid.UUID
    provider_profile_id: uuid.UUID
    provider_name: str
    invited_by_id: uuid.UUID
    created_at: datetime
    status: InvitationStatus
    bid: Bid | None


def sent_invitations(*, user: User, task_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """One page of the invitations the task's client sent, newest first, each with the
    invited provider's name and status: for the client's people and admins (NotFound for
    anyone else). Two statements after the task's: the page (with the providers' names)
    and the invited providers' latest bids on the task."""
    task = tasks.get_task(user=user, task_id=task_id, statement=_task_statement())
    if not (user.is_admin or tasks.is_owner(user, task)):
        raise NotFound("Task not found.")
    result = paginate(
        sa.select(TaskInvitation)
        .where(TaskInvitation.task_id == task.id)
        .options(
            joinedload(TaskInvitation.provider_profile, innerjoin=True).options(
                joinedload(ProviderProfile.organization), joinedload(ProviderProfile.user)
            )
        )
        .order_by(TaskInvitation.created_at.desc(), TaskInvitation.id.desc()),
        page=page,
        page_size=page_size,
    )
    latest = _latest_bids(task.id, [i.provider_profile_id for i in result.items])
    lapsed = task.status in _LAPSING
    result.items = [_sent(i, latest.get(i.provider_profile_id), lapsed) for i in result.items]
    return result


@functools.cache
def _task_statement() -> sa.Select[Task]:
    """The task with its client (who owns it; whether it may be seen), nothing more."""
    return tasks.task_statement(
        joinedload(Task.client_profile, innerjoin=True).joinedload(ClientProfile.user),
        lazyload(Task.skills),
        lazyload(Task.language_rows),
    )


def _latest_bids(task_id: uuid.UUID, provider_ids: list[uuid.UUID]) -> dict[uuid.UUID, Bid]:
    """The latest bid of each of these providers on the task, in one statement."""
    if not provider_ids:
        return {}
    latest: dict[uuid.UUID, Bid] = {}
    for bid in db.session.scalars(
        sa.select(Bid)
        .where(Bid.task_id == task_id, Bid.provider_profile_id.in_(provider_ids))
        .order_by(Bid.created_at, Bid.id)
    ):
        latest[bid.provider_profile_id] = bid  # the last one read is the newest
    return latest


def _sent(invitation: TaskInvitation, bid: Bid | None, lapsed: bool) -> SentInvitation:
    if bid is not None:
        status = InvitationStatus.BID
    else:
        status = InvitationStatus.LAPSED if lapsed else InvitationStatus.INVITED
    return SentInvitation(
        id=invitation.id,
        task_id=invitation.task_id,
        provider_profile_id=invitation.provider_profile_id,
        provider_name=invitation.provider_profile.display_name,
        invited_by_id=invitation.invited_by_id,
        created_at=invitation.created_at,
        status=status,
        bid=bid,
    )
