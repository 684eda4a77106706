"""Read-only lists of raw records, by Flask-Admin 2.2, under /admin/records: the audit log,
the outbox and the Stripe webhook events, with search, filters, pagination, a details view
and CSV export. They pass the console's guard and are drawn in its frame
(console/records_base.html); nothing here can change a record."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.model import filters
from flask_admin.theme import Bootstrap4Theme
from werkzeug.exceptions import NotFound

from marketplace.audit import AuditEntry
from marketplace.console.exports import cell
from marketplace.console.site import (
    LOGIN,
    MAX_PAGE,
    is_signed_in,
    signed_in_admin,
    template_context,
)
from marketplace.errors import http_error_response
from marketplace.extensions import db
from marketplace.jobs.models import OutboxEntry
from marketplace.payments.models import WebhookEvent
from marketplace.reporting.operations import EXPORT_LIMIT

URL = "/admin/records"


class Guarded:
    """The console's guard and frame, for Flask-Admin's views."""

    def is_accessible(self) -> bool:
        """Signed-in admins only."""
        return signed_in_admin() is not None

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        """As the console's guard: anonymous to the sign-in page, anyone else the API's 404."""
        if is_signed_in():
            return http_error_response(NotFound())
        target = request.full_path if request.query_string else request.path
        return redirect(url_for(LOGIN, next=target))

    def render(self, template: str, **kwargs: Any) -> str:
        """Flask-Admin's page, with what the console's frame needs."""
        context = {**template_context(), "console_section": "Operations"}
        return super().render(template, **context, **kwargs)  # type: ignore[misc]


class RecordsIndex(Guarded, AdminIndexView):
    """/admin/records: straight on to the audit log."""

    @expose()
    def index(self) -> Any:
        """The audit log."""
        return redirect(url_for("audit_records.index_view"))


class Converter(FilterConverter):
    """Flask-Admin's filters, for the project's UTC timestamps too."""

    @filters.convert("UTCDateTime")
    def conv_utc_datetime(self, column: Any, name: str, **kwargs: Any) -> list[Any]:
        """Timestamps filter as datetimes: equal, before, after, between."""
        return [f(column, name, **kwargs) for f in self.datetime_filters]


class ReadOnlyList(Guarded, ModelView):
    """A read-only, searchable, filterable list that exports as CSV (formulas defused, at
    most `EXPORT_LIMIT` rows, as the console's own exports)."""

    can_create = can_edit = can_delete = False
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    export_max_rows = EXPORT_LIMIT
    page_size = 50
    can_set_page_size = True
    filter_converter = Converter()

    def _get_list_extra_args(self) -> Any:
        """The list's query arguments, the page number kept in range (0-based here)."""
        view_args = super()._get_list_extra_args()
        view_args.page = min(max(view_args.page or 0, 0), MAX_PAGE - 1)
        view_args.page_size = min(max(view_args.page_size or 0, 0), 500)
        return view_args

    def get_one(self, id: Any) -> Any:
        """The row of a details view; an id that is not a UUID finds nothing."""
        try:
            key = uuid.UUID(str(id))
        except ValueError:
            return None
        return db.session.get(self.model, key)

    def get_export_value(self, model: Any, name: str) -> Any:
        return cell(super().get_export_value(model, name))


class AuditLog(ReadOnlyList):
    """Every recorded admin action: by actor, action, object and date."""

    column_list = ("at", "action", "actor_id", "target_type", "target_id", "details")
    column_labels = {"actor_id": "Actor", "target_type": "Object", "target_id": "Object id"}
    column_searchable_list = ("action", "target_type")
    column_filters = ("at", "action", "actor_id", "target_type", "target_id")
    column_default_sort = ("at", True)


class Outbox(ReadOnlyList):
    """Side effects waiting, sent or failed (retry them from Operations)."""

    column_list = ("created_at", "kind", "status", "attempts", "next_attempt_at", "last_error")
    # The payload stays out of every view: an e-mail's holds its links, and their tokens.
    column_details_exclude_list = column_export_exclude_list = ("payload",)
    column_searchable_list = ("kind", "last_error")
    column_filters = ("status", "kind", "created_at", "attempts")
    column_default_sort = ("created_at", True)


class WebhookEvents(ReadOnlyList):
    """Stripe's events as received, processed or ignored."""

    column_list = ("received_at", "type", "status", "event_id", "processed_at")
    column_searchable_list = ("type", "event_id")
    column_filters = ("status", "type", "received_at")
    column_default_sort = ("received_at", True)


def init_app(app: Flask) -> None:
    """Mount the lists under /admin/records (one Flask-Admin per app)."""
    admin = Admin(
        name="Records",
        url=URL,
        endpoint="records",
        index_view=RecordsIndex(url=URL, endpoint="records"),
        theme=Bootstrap4Theme(base_template="console/records_base.html"),
    )
    admin.add_view(AuditLog(AuditEntry, db, name="Audit log", endpoint="audit_records"))
    admin.add_view(Outbox(OutboxEntry, db, name="Outbox", endpoint="outbox_records"))
    admin.add_view(
        WebhookEvents(WebhookEvent, db, name="Webhook events", endpoint="webhook_records")
    )
    admin.init_app(app)
