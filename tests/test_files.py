"""Files: multipart uploads on both storage backends (a local directory, and S3 through a
real moto server), who may read them, bad input, the purge of unattached uploads, and
attaching them to tasks, messages, deliveries and disputes."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request
import uuid
import zipfile
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from marketplace.database import utcnow
from marketplace.errors import PayloadTooLarge
from marketplace.extensions import db
from marketplace.files import services as file_services
from marketplace.files import sniffing
from marketplace.files import storage as file_storage
from marketplace.files.models import FilePurpose, StoredFile
from marketplace.payments import funding
from marketplace.tasks.models import ConfidentialAccess, Task
from tests import s3_support
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, task_payload
from tests.factories import terms_acceptance as accepted
from tests.money import make_deal, money_post

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 100


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


DOCX = _docx()


def upload(
    api: Any, data: bytes = PDF, name: str = "brief.pdf", purpose: str = "message", **kwargs: Any
) -> Any:
    # Encoded in memory: the test client would spool a large body to an unclosed temp file.
    boundary, body = encode_multipart(
        {
            "file": FileStorage(
                io.BytesIO(data), name, content_type=kwargs.pop("client_type", "text/html")
            ),
            "purpose": purpose,
        }
    )
    return api.post(
        "files", data=body, content_type=f"multipart/form-data; boundary={boundary}", **kwargs
    )


def stored_keys(store: file_storage.Storage) -> list[str]:
    """Every object the storage holds (staging files included, for the local one)."""
    if isinstance(store, file_storage.S3Storage):
        return s3_support.object_keys(store.client.meta.endpoint_url, store.bucket)
    assert isinstance(store, file_storage.LocalStorage)
    found = []
    for folder, _, names in os.walk(store.root):
        found += [os.path.relpath(os.path.join(folder, n), store.root) for n in names]
    return found


def fetch(api: Any, file_id: str) -> tuple[int, bytes, Any]:
    """Download: the status and the bytes (following S3's redirect to the signed URL)."""
    response = api.get(f"files/{file_id}/download")
    if response.status_code == 302:
        with urllib.request.urlopen(response.headers["Location"], timeout=60) as signed:
            return 302, signed.read(), signed.headers
    return response.status_code, response.data, response.headers


# --- uploads and downloads on both backends -----------------------------------------------


def test_upload_sniffs_hashes_stores_and_downloads(login, storage_backend):
    provider = ProviderFactory()
    api = login(provider)

    response = upload(api, PDF, name="report.exe", client_type="text/html")

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["content_type"] == "application/pdf"  # sniffed, not the client's word
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["size"] == len(PDF)
    assert body["name"] == "report.exe"
    assert body["purpose"] == "message"
    assert body["attached"] is False
    assert body["download_path"] == f"/api/v1/files/{body['id']}/download"
    row = db.session.get(StoredFile, uuid.UUID(body["id"]))
    assert row is not None and row.owner_id == provider.id
    assert row.storage_key == f"files/message/{row.id}"  # never the client's name
    assert stored_keys(storage_backend) == [row.storage_key]

    status, data, headers = fetch(api, body["id"])

    assert data == PDF
    assert "attachment" in headers["Content-Disposition"]
    assert "report.exe" in headers["Content-Disposition"]
    if isinstance(storage_backend, file_storage.S3Storage):
        assert status == 302
        location = api.get(f"files/{body['id']}/download").headers["Location"]
        assert parse_qs(urlparse(location).query)["X-Amz-Expires"] == ["60"]
    else:
        assert status == 200
        assert headers["Content-Type"] == "application/pdf"
        assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (PNG, "photo.jpg", "image/png"),
        (
            DOCX,
            "notes.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (b"sku,qty\nA-1,3\n", "stock.csv", "text/csv"),
        ("Grüße, plain text\n".encode(), "readme", "text/plain"),
    ],
)
def test_accepted_types_are_sniffed_from_the_bytes(login, data, name, content_type):
    response = upload(login(ProviderFactory()), data, name=name)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["content_type"] == content_type


def test_metadata_is_the_uploaders_while_unattached(login, api):
    owner, stranger, admin = ProviderFactory(), ClientFactory(), AdminFactory()
    file_id = upload(login(owner)).get_json()["id"]

    assert login(owner).get(f"files/{file_id}").status_code == 200
    assert login(admin).get(f"files/{file_id}").status_code == 200
    foreign = login(stranger).get(f"files/{file_id}")
    assert foreign.status_code == 404
    assert foreign.get_json()["error"]["code"] == "not_found"
    assert login(stranger).get(f"files/{file_id}/download").status_code == 404
    assert api.get(f"files/{file_id}").status_code == 401
    assert api.get(f"files/{file_id}/download").status_code == 401
    assert login(owner).get(f"files/{uuid.uuid4()}").status_code == 404


# --- bad input ----------------------------------------------------------------------------


def test_a_file_over_its_uses_limit_is_a_413_and_leaves_nothing(login, app, storage_backend):
    api = login(ProviderFactory())
    limits = dict(app.config["FILE_MAX_BYTES"])
    app.config["FILE_MAX_BYTES"] = {**limits, "message": 1000}
    try:
        response = upload(api, PDF + b"0" * 2000)
        evidence = upload(api, PDF + b"0" * 2000, purpose="evidence")
    finally:
        app.config["FILE_MAX_BYTES"] = limits

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert response.get_json()["error"]["details"]["max_bytes"] == 1000
    assert evidence.status_code == 201  # another use, another limit
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 1
    assert len(stored_keys(storage_backend)) == 1


def test_uploads_may_be_larger_than_other_request_bodies(login, app):
    big = PDF + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1024)

    response = upload(login(ProviderFactory()), big, purpose="submission")

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["sha256"] == hashlib.sha256(big).hexdigest()


def test_a_body_over_every_limit_is_a_json_413(login, app):
    api = login(ProviderFactory())
    limits = dict(app.config["FILE_MAX_BYTES"])
    app.config["FILE_MAX_BYTES"] = dict.fromkeys(limits, 1000)
    try:
        response = upload(api, PDF + b"0" * 200_000)
    finally:
        app.config["FILE_MAX_BYTES"] = limits

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0


def test_forbidden_and_empty_files_are_422_and_leave_nothing(login, storage_backend):
    api = login(ProviderFactory())

    exe = upload(api, EXE, name="invoice.pdf", client_type="application/pdf")
    empty = upload(api, b"", name="empty.txt")

    assert exe.status_code == 422
    assert exe.get_json()["error"]["code"] == "validation_error"
    assert "application/x-msdownload" in exe.get_json()["error"]["message"]
    assert empty.status_code == 422
    assert stored_keys(storage_backend) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0


def test_an_upload_without_a_file_or_purpose_is_a_422(login):
    api = login(ProviderFactory())

    no_file = api.post("files", data={"purpose": "message"}, content_type="multipart/form-data")
    text_file = api.post(
        "files", data={"purpose": "message", "file": "%PDF-1.4"}, content_type="multipart/form-data"
    )
    other_part = api.post(
        "files",
        data={"purpose": "message", "attachment": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    as_json = api.post("files", json={"purpose": "message"})
    no_purpose = api.post(
        "files", data={"file": (io.BytesIO(PDF), "a.pdf")}, content_type="multipart/form-data"
    )
    bad_purpose = upload(api, purpose="selfie")

    for response in (no_file, text_file, other_part, as_json, no_purpose, bad_purpose):
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["error"]["code"] == "validation_error"
    assert "file" in no_file.get_json()["error"]["details"]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../../etc/passwd", "passwd"),
        # A quoted multipart name loses its backslashes (escapes) before the app sees it.
        ("..\\..\\windows\\win.ini", "windowswin.ini"),
        ("a\x07b\x1b[31mc\x7f.pdf", "ab[31mc.pdf"),
        ("../..", "file"),
        ("...hidden.pdf", "hidden.pdf"),
    ],
)
def test_names_with_paths_or_control_characters_change_nothing_on_disk(
    login, app, storage_backend, raw, shown, tmp_path
):
    response = upload(login(ProviderFactory()), PDF, name=raw)

    assert response.status_code == 201, response.get_json()
    file = db.session.get(StoredFile, uuid.UUID(response.get_json()["id"]))
    assert file is not None and file.name == shown
    assert stored_keys(storage_backend) == [f"files/message/{file.id}"]
    assert not os.path.exists(os.path.join(app.instance_path, "etc"))


def test_safe_names_keep_no_directory_nor_control_character():
    assert sniffing.safe_name("dir/a\x00b\nc\r.pdf") == "abc.pdf"
    assert sniffing.safe_name("C:\\Users\\x\\..\\évidence.pdf") == "évidence.pdf"
    assert sniffing.safe_name(None) == "file"
    assert sniffing.safe_name("\u202egnp.exe") == "gnp.exe"  # no right-to-left override
    assert len(sniffing.safe_name("a" * 400 + ".pdf")) == 255


def test_a_failure_after_storing_removes_the_object(login, storage_backend, monkeypatch):
    provider = ProviderFactory()
    db.session.commit()

    def broken_commit() -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        file_services.upload(
            user=provider, purpose=FilePurpose.MESSAGE, stream=io.BytesIO(PDF), filename="a.pdf"
        )
    monkeypatch.undo()

    assert stored_keys(storage_backend) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0


def test_a_failure_while_receiving_leaves_no_staging_file(app, storage_backend):
    provider = ProviderFactory()
    db.session.commit()

    with app.test_request_context(), pytest.raises(PayloadTooLarge):
        app.config["FILE_MAX_BYTES"] = {**app.config["FILE_MAX_BYTES"], "task": 10}
        try:
            file_services.upload(
                user=provider, purpose=FilePurpose.TASK, stream=io.BytesIO(PDF), filename="a"
            )
        finally:
            app.config["FILE_MAX_BYTES"] = {**app.config["FILE_MAX_BYTES"], "task": 25 << 20}

    assert stored_keys(storage_backend) == []


# --- the purge of unattached uploads ------------------------------------------------------


def test_uploads_attached_to_nothing_for_a_day_are_purged(
    app, login, storage_backend, time_machine
):
    time_machine.move_to(utcnow(), tick=False)
    provider = ProviderFactory()
    api = login(provider)
    old = upload(api).get_json()["id"]
    kept = upload(api).get_json()["id"]
    deal = make_deal(provider=provider)
    login(provider).post(
        f"contracts/{deal.contract_id}/messages", json={"body": "See attached.", "files": [kept]}
    )
    time_machine.shift(timedelta(hours=23))
    young = upload(api).get_json()["id"]
    runner = app.test_cli_runner()

    assert "purged 0 files" in runner.invoke(args=["purge-files"]).output
    time_machine.shift(timedelta(hours=1, seconds=1))
    result = runner.invoke(args=["purge-files"])

    assert result.exit_code == 0, result.output
    assert "purged 1 files" in result.output
    db.session.expire_all()
    remaining = set(db.session.scalars(sa.select(StoredFile.id)))
    assert remaining == {uuid.UUID(kept), uuid.UUID(young)}
    assert sorted(stored_keys(storage_backend)) == sorted(
        f"files/message/{i}" for i in (kept, young)
    )
    assert old not in str(stored_keys(storage_backend))
    assert login(provider).get(f"files/{old}").status_code == 404


def test_the_files_of_a_deleted_draft_are_purged(app, login, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    api = login(ClientFactory())
    file_id = upload(api, purpose="task").get_json()["id"]
    draft = api.post("tasks", json=task_payload(confidential_files=[file_id])).get_json()

    assert api.delete(f"tasks/{draft['id']}").status_code == 204
    time_machine.shift(timedelta(hours=25))
    result = app.test_cli_runner().invoke(args=["purge-files"])

    assert "purged 1 files" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0


def test_the_purge_is_a_periodic_job():
    from marketplace.jobs.celery import PERIODIC

    assert PERIODIC["purge-files"] == ("marketplace.files.jobs.purge_files", 3600.0)


# --- attaching: messages ------------------------------------------------------------------


@pytest.fixture
def deal(login):
    deal = make_deal()
    return {
        "deal": deal,
        "client_api": login(deal.client),
        "provider_api": login(deal.provider),
        "messages": f"contracts/{deal.contract_id}/messages",
    }


def test_message_files_are_read_by_the_threads_readers(deal, login, api, storage_backend):
    sender = deal["provider_api"]
    file_id = upload(sender, PDF, name="plan.pdf").get_json()["id"]

    posted = sender.post(deal["messages"], json={"body": "The plan.", "files": [file_id]})

    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["files"] == [
        {
            "id": file_id,
            "name": "plan.pdf",
            "size": len(PDF),
            "content_type": "application/pdf",
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "download_path": f"/api/v1/files/{file_id}/download",
        }
    ]
    shown = deal["client_api"].get(deal["messages"]).get_json()["items"][0]
    assert shown["files"][0]["id"] == file_id
    row = db.session.get(StoredFile, uuid.UUID(file_id))
    assert row is not None and str(row.attached_id) == posted.get_json()["id"]
    # Uploader, the other party, an admin: the bytes. A stranger: 404. Nobody: 401.
    for reader in (sender, deal["client_api"], login(AdminFactory())):
        assert fetch(reader, file_id)[1] == PDF
        assert reader.get(f"files/{file_id}").get_json()["attached"] is True
    stranger = login(ProviderFactory())
    assert stranger.get(f"files/{file_id}/download").status_code == 404
    assert stranger.get(f"files/{file_id}").status_code == 404
    assert api.get(f"files/{file_id}/download").status_code == 401


def test_attaching_unknown_foreign_or_used_files_is_a_422(deal, login):
    provider_api, client_api = deal["provider_api"], deal["client_api"]
    mine = upload(provider_api).get_json()["id"]
    theirs = upload(client_api).get_json()["id"]
    evidence = upload(provider_api, purpose="evidence").get_json()["id"]
    unknown = str(uuid.uuid4())

    for files in ([theirs], [unknown], [evidence]):
        response = provider_api.post(deal["messages"], json={"body": "Hi", "files": files})
        assert response.status_code == 422, response.get_json()
        assert list(response.get_json()["error"]["details"]["files"]) == files
    assert provider_api.post(
        deal["messages"], json={"body": "Hi", "files": [mine]}
    ).status_code == (201)
    # Attached once, for good: not to another message, nor to another user's thread.
    again = provider_api.post(deal["messages"], json={"body": "Again", "files": [mine]})
    assert again.status_code == 422
    assert again.get_json()["error"]["details"]["files"][mine] == [
        "The file is already attached elsewhere."
    ]
    other = make_deal(provider=deal["deal"].provider)
    elsewhere = login(deal["deal"].provider).post(
        f"contracts/{other.contract_id}/messages", json={"body": "Here", "files": [mine]}
    )
    assert elsewhere.status_code == 422
    # Refused attachments leave no message behind.
    assert len(client_api.get(deal["messages"]).get_json()["items"]) == 1


def test_a_malformed_file_id_is_a_422(deal):
    response = deal["provider_api"].post(
        deal["messages"], json={"body": "Hi", "files": ["../../etc/passwd"]}
    )

    assert response.status_code == 422
    assert "files" in response.get_json()["error"]["details"]


# --- attaching: milestone deliveries and dispute evidence ----------------------------------


def test_delivered_files_are_read_by_the_contracts_parties(deal, login):
    contract_deal = deal["deal"]
    milestone_id = contract_deal.milestone_ids[0]
    funding.fund(user=contract_deal.client, milestone_id=milestone_id)
    file_id = upload(deal["provider_api"], DOCX, "handover.docx", "submission").get_json()["id"]

    submitted = money_post(
        deal["provider_api"],
        f"milestones/{milestone_id}/submit",
        json={"note": "All done.", "files": [file_id]},
    )

    assert submitted.status_code == 200, submitted.get_json()
    detail = deal["client_api"].get(f"milestones/{milestone_id}").get_json()
    assert detail["submissions"][0]["files"][0]["id"] == file_id
    assert detail["submissions"][0]["files"][0]["name"] == "handover.docx"
    assert fetch(deal["client_api"], file_id)[1] == DOCX
    assert fetch(login(AdminFactory()), file_id)[1] == DOCX
    assert login(ClientFactory()).get(f"files/{file_id}/download").status_code == 404


def test_a_delivery_with_someone_elses_file_is_refused_whole(deal):
    contract_deal = deal["deal"]
    milestone_id = contract_deal.milestone_ids[0]
    funding.fund(user=contract_deal.client, milestone_id=milestone_id)
    theirs = upload(deal["client_api"], purpose="submission").get_json()["id"]

    refused = money_post(
        deal["provider_api"],
        f"milestones/{milestone_id}/submit",
        json={"note": "All done.", "files": [theirs]},
    )

    assert refused.status_code == 422
    assert contract_deal.milestone(0).status == "funded"


def test_dispute_evidence_is_read_by_the_parties_and_admins(deal, login):
    contract_deal = deal["deal"]
    milestone_id = contract_deal.milestone_ids[0]
    funding.fund(user=contract_deal.client, milestone_id=milestone_id)
    file_id = upload(deal["client_api"], PNG, "screenshot.png", "evidence").get_json()["id"]

    opened = deal["client_api"].post(
        f"milestones/{milestone_id}/dispute",
        json={"reason": "Nothing was delivered this week.", "files": [file_id]},
    )

    assert opened.status_code == 201, opened.get_json()
    assert opened.get_json()["files"][0]["content_type"] == "image/png"
    admin = login(AdminFactory())
    assert (
        admin.get(f"admin/disputes/{opened.get_json()['id']}").get_json()["files"][0]["id"]
        == file_id
    )
    for reader in (deal["client_api"], deal["provider_api"], admin):
        assert fetch(reader, file_id)[1] == PNG
    assert login(ProviderFactory()).get(f"files/{file_id}").status_code == 404


# --- attaching: a task's confidential files -----------------------------------------------


@pytest.fixture
def confidential(login):
    client, provider = ClientFactory(), ProviderFactory()
    client_api, provider_api = login(client), login(provider)
    file_id = upload(client_api, PDF, "sop.pdf", "task").get_json()["id"]
    task = client_api.post("tasks", json=task_payload(confidential_files=[file_id]))
    assert task.status_code == 201, task.get_json()
    task_id = task.get_json()["id"]
    client_api.post(f"tasks/{task_id}/publish", json={})
    return {
        "client_api": client_api,
        "provider_api": provider_api,
        "file_id": file_id,
        "task_id": task_id,
    }


def test_task_files_pass_the_confidentiality_gate_and_the_access_log(confidential, login):
    provider_api, file_id = confidential["provider_api"], confidential["file_id"]
    task_id = confidential["task_id"]

    assert provider_api.get(f"files/{file_id}/download").status_code == 404
    assert provider_api.get(f"files/{file_id}").status_code == 404
    provider_api.post(f"tasks/{task_id}/confidentiality", json=accepted())
    shown = provider_api.get(f"tasks/{task_id}/confidential").get_json()
    status, data, _ = fetch(provider_api, file_id)

    assert shown["confidential_files"][0]["id"] == file_id
    assert status in {200, 302}  # streamed, or S3's redirect (TEST_FILE_STORAGE=s3)
    assert data == PDF
    assert fetch(confidential["client_api"], file_id)[1] == PDF
    assert fetch(login(AdminFactory()), file_id)[1] == PDF
    assert login(ProviderFactory()).get(f"files/{file_id}/download").status_code == 404
    vias = db.session.scalars(
        sa.select(ConfidentialAccess.via).where(ConfidentialAccess.task_id == uuid.UUID(task_id))
    ).all()
    assert vias.count("GET /api/v1/files/{file_id}/download") == 3
    assert "GET /api/v1/tasks/{task_id}/confidential" in vias


def test_task_files_attach_once_to_their_clients_task(confidential, login):
    client_api, file_id = confidential["client_api"], confidential["file_id"]
    other_client = login(ClientFactory())

    foreign = other_client.post("tasks", json=task_payload(confidential_files=[file_id]))
    second = client_api.post("tasks", json=task_payload(confidential_files=[file_id]))
    unknown = client_api.post("tasks", json=task_payload(confidential_files=[str(uuid.uuid4())]))

    for response in (foreign, second, unknown):
        assert response.status_code == 422, response.get_json()
        assert "confidential_files" in response.get_json()["error"]["details"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 1


def test_editing_the_task_files_makes_a_new_terms_version(confidential):
    client_api, task_id = confidential["client_api"], confidential["task_id"]
    added = upload(client_api, b"sku,qty\n", "stock.csv", "task").get_json()["id"]

    edited = client_api.patch(
        f"tasks/{task_id}", json={"confidential_files": [confidential["file_id"], added]}
    )

    assert edited.status_code == 200, edited.get_json()
    task = db.session.get(Task, uuid.UUID(task_id))
    assert task is not None and task.terms_version == 2
    assert [f["id"] for f in task.confidential_files] == [confidential["file_id"], added]
