"""The Users page in a real headless Chromium against a live server: an admin finds a user,
suspends them with a reason (their API token is refused from then on), settles their live
contracts, and reinstates them; every page checked by axe-core and screenshotted."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User, UserStatus
from marketplace.audit import AuditEntry
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.payments import funding
from tests.browser_support import check_page, needs_axe, needs_chromium
from tests.factories import AdminFactory, ClientFactory
from tests.money import make_deal
from tests.test_console_browser import person, sign_in

pytestmark = [needs_chromium, needs_axe]


def me_with_token(browser: Any, live_server: str, token: str) -> int:
    """GET /api/v1/auth/me with the bearer token alone (a context without the admin's
    cookie), as an integration would."""
    context = browser.new_context()
    try:
        response = context.request.get(
            f"{live_server}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        return int(response.status)
    finally:
        context.close()


def test_an_admin_suspends_a_user_whose_token_is_then_refused(live_server, page, browser):
    admin = person(AdminFactory)
    client = ClientFactory(name="Dana Okoye", email="dana@shop.example")
    _, token = accounts.create_token(user=client, name="shop integration")
    deal = make_deal((40_000, 60_000), client=client)
    funding.fund(user=client, milestone_id=deal.milestone_ids[0])
    ids = {"client": client.id, "contract": deal.contract_id, "provider": deal.provider.id}
    db.session.commit()  # and nothing read after it: the live server needs the write lock

    assert me_with_token(browser, live_server, token) == 200
    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Users").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Users"
    check_page(page, "users-list")

    page.get_by_label("E-mail, name or organization").fill("SHOP.example")
    page.get_by_role("button", name="Search").click()
    assert page.locator("tbody tr").count() == 1
    check_page(page, "users-search")
    page.get_by_role("link", name="Dana Okoye").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Dana Okoye")
    profile = page.locator("dl.facts").inner_text()
    assert "dana@shop.example" in profile and "America/New_York" in profile
    assert "Off" in profile  # two-factor sign-in
    assert "400.00 USD" in page.locator("#money ~ .table-wrap").first.inner_text()
    check_page(page, "user-page")

    # A suspension needs a reason: the browser will not send the form without one.
    page.get_by_role("button", name="Suspend Dana Okoye").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Dana Okoye")
    page.get_by_label("Reason for the suspension").fill("Chargebacks on stolen cards.")
    page.get_by_role("button", name="Suspend Dana Okoye").click()
    assert "The user is suspended" in page.get_by_role("status").inner_text()
    assert "Chargebacks on stolen cards." in page.locator(".panel-bad").inner_text()
    live = page.locator("table", has_text="Offered, active and paused contracts")
    assert live.locator("tbody tr").count() == 1
    check_page(page, "user-suspended")

    assert me_with_token(browser, live_server, token) in (401, 403)

    # Settle the live contract: terminate it, the provider told.
    live.get_by_label(re.compile("^Reason for")).fill("The client's account is suspended.")
    live.get_by_role("button", name="Terminate").click()
    assert "terminated; both parties were told" in page.get_by_role("status").inner_text()
    assert "No live contracts" in page.locator("#live-contracts ~ p").first.inner_text()
    check_page(page, "user-contracts-settled")

    page.get_by_role("button", name="Reinstate Dana Okoye").click()
    assert "reinstated" in page.get_by_role("status").inner_text()

    user = db.session.get(User, ids["client"])
    assert user is not None and user.status == UserStatus.ACTIVE
    contract = db.session.get(Contract, ids["contract"])
    assert contract is not None and contract.status == ContractStatus.TERMINATED
    assert db.session.scalar(
        sa.select(sa.func.count()).where(
            Notification.user_id == ids["provider"], Notification.kind == "contract.terminated"
        )
    )
    trail = db.session.execute(
        sa.select(AuditEntry.action, AuditEntry.details)
        .where(AuditEntry.target_id.in_([ids["client"], ids["contract"]]))
        .order_by(AuditEntry.at)
    ).all()
    assert [action for action, _ in trail] == [
        "suspend_user",
        "contract.terminate",
        "reinstate_user",
    ]
    assert trail[0][1] == {"reason": "Chargebacks on stolen cards."}
    db.session.commit()
    # Reinstated, the old token still does not work: it was revoked for good.
    assert me_with_token(browser, live_server, token) in (401, 403)
