"""Who may read a file: the one who uploaded it while it is attached to nothing, and then
whoever may see the object it is attached to, asked of that object's area at every read.

A task's confidential files go through the confidentiality gate like the rest of the
task's confidential material: only its client, admins and providers who accepted the
current terms read them, and every read is in the task's access log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from marketplace.accounts.models import User
from marketplace.contracts import milestones
from marketplace.contracts import services as contracts
from marketplace.contracts.models import MilestoneSubmission
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.files import services as files
from marketplace.files.models import FilePurpose, StoredFile
from marketplace.hourly import entries
from marketplace.messaging import services as messaging
from marketplace.payments import disputes
from marketplace.payments.models import DisputeEvidence
from marketplace.record.models import WorkReport
from marketplace.tasks import confidentiality

Check = Callable[[User, uuid.UUID, confidentiality.Reader], None]


def _task(user: User, task_id: uuid.UUID, reader: confidentiality.Reader) -> None:
    confidentiality.read_confidential(reader=reader, task_id=task_id)


def _message(user: User, message_id: uuid.UUID, reader: confidentiality.Reader) -> None:
    messaging.get_message(user=user, message_id=message_id)


def _submission(user: User, submission_id: uuid.UUID, reader: confidentiality.Reader) -> None:
    submission = db.session.get(MilestoneSubmission, submission_id)
    if submission is None:
        raise NotFound("File not found.")
    milestones.get_for(user, submission.milestone_id)


def _evidence(user: User, object_id: uuid.UUID, reader: confidentiality.Reader) -> None:
    # Attached to the dispute (its opening) or to one of the parties' later evidence.
    evidence = db.session.get(DisputeEvidence, object_id)
    disputes.get_dispute(user=user, dispute_id=evidence.dispute_id if evidence else object_id)


def _work_report(user: User, report_id: uuid.UUID, reader: confidentiality.Reader) -> None:
    report = db.session.get(WorkReport, report_id)
    if report is None:
        raise NotFound("File not found.")
    contracts.get_contract(user=user, contract_id=report.contract_id)


def _time_entry(user: User, entry_id: uuid.UUID, reader: confidentiality.Reader) -> None:
    entries.get_entry(user=user, entry_id=entry_id)


CHECKS: dict[FilePurpose, Check] = {
    FilePurpose.TASK: _task,
    FilePurpose.MESSAGE: _message,
    FilePurpose.SUBMISSION: _submission,
    FilePurpose.EVIDENCE: _evidence,
    FilePurpose.WORK_REPORT: _work_report,
    FilePurpose.TIME_ENTRY: _time_entry,
}


def readable_file(*, reader: confidentiality.Reader, file_id: uuid.UUID) -> StoredFile:
    """The file, if `reader.user` may read it now; NotFound otherwise (never a 403)."""
    file = files.get_row(file_id)
    user = reader.user
    if file.attached_id is None:
        if not files.may_see_unattached(user, file):
            raise NotFound("File not found.")
        return file
    check = CHECKS.get(file.purpose)
    if check is None:
        if not files.may_see_unattached(user, file):
            raise NotFound("File not found.")
        return file
    # The uploader of a message, delivery or evidence keeps it; a task's files are read
    # through the confidentiality gate by everyone, so every read is logged.
    if file.purpose != FilePurpose.TASK and file.owner_id == user.id:
        return file
    try:
        check(user, file.attached_id, reader)
    except NotFound:
        raise NotFound("File not found.") from None
    return file
