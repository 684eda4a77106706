"""Who acts and signs for whom: the plain rules, and the SQL form equal to them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace import permissions
from marketplace.errors import Forbidden
from marketplace.extensions import db
from marketplace.organizations.models import MemberRole
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, make_company, make_firm


def _sql_acting_client_profile_id(user):
    return db.session.scalar(sa.select(permissions.acting_client_profile_id(user.id)))


@pytest.mark.parametrize("role", [MemberRole.OWNER, MemberRole.MANAGER, MemberRole.AGENT])
def test_a_member_acts_for_the_company_not_their_own_profile(role):
    company = make_company(**{role.value: True})
    company_profile, member = company.profile, getattr(company, role.value)

    assert permissions.acting_client_profile(member).id == company_profile.id
    assert _sql_acting_client_profile_id(member) == company_profile.id
    assert permissions.acts_for_client(member, company_profile.id)
    assert permissions.commits(member) is (role != MemberRole.AGENT)


def test_an_individual_acts_for_their_own_profile_and_commits_it():
    client = ClientFactory()
    own = permissions.acting_client_profile(client)

    assert own.user_id == client.id
    assert _sql_acting_client_profile_id(client) == own.id
    assert permissions.commits(client)


@pytest.mark.parametrize("role", [MemberRole.OWNER, MemberRole.AGENT])
def test_the_sql_acting_provider_profile_is_the_plain_one(role):
    firm, individual = make_firm(**{role.value: True}), ProviderFactory()
    for user in (getattr(firm, role.value), individual):
        sql = db.session.scalar(sa.select(permissions.acting_provider_profile_id(user.id)))
        assert sql == permissions.acting_provider_profile(user).id
    assert (
        db.session.scalar(sa.select(permissions.acting_provider_profile_id(ClientFactory().id)))
        is None
    )


def test_accounts_of_another_kind_act_for_no_client():
    provider, admin = ProviderFactory(), AdminFactory()

    for user in (provider, admin):
        assert _sql_acting_client_profile_id(user) is None
        with pytest.raises(Forbidden):
            permissions.acting_client_profile(user)
    assert permissions.acting_provider_profile(provider).user_id == provider.id


def test_an_agent_is_refused_what_commits_the_firm_and_is_not_told():
    firm = make_firm(owner=True, manager=True, agent=True)
    profile, owner, manager, agent = firm.profile, firm.owner, firm.manager, firm.agent

    with pytest.raises(Forbidden, match="Only the owner"):
        permissions.require_commits(agent, "Only the owner or managers do this.")
    permissions.require_commits(manager, "unused")
    assert permissions.acts_for_provider(agent, profile.id)
    assert {u.id for u in permissions.people_acting_for(profile)} == {owner.id, manager.id}


@pytest.mark.parametrize("role", [MemberRole.OWNER, MemberRole.MANAGER, MemberRole.AGENT])
def test_the_sql_forms_for_firms_equal_the_plain_rules(role):
    firm = make_firm(**{role.value: True})
    member = getattr(firm, role.value)
    individual = ProviderFactory()

    for user in (member, individual):
        plain = permissions.acting_provider_profile(user).id
        sql = db.session.scalar(sa.select(permissions.acting_provider_profile_id(user.id)))
        assert sql == plain
        commits = db.session.scalar(sa.select(permissions.commits_clause(user.id)))
        assert bool(commits) is permissions.commits(user)
    assert permissions.acting_provider_profile(member).id == firm.profile.id
