"""skill taxonomy

Revision ID: 4b0f80a6e196
Revises: c9416ad65605
Create Date: 2026-11-23 07:08:46.174875

"""
import uuid

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '4b0f80a6e196'
down_revision = 'c9416ad65605'
branch_labels = None
depends_on = None


# Stable ids, so every deployment names a skill the same way.
NAMESPACE = uuid.UUID("6f1d3c2e-5b7a-4f0e-9a49-2b8c1d7e4a10")

SKILLS = [
    # (slug, name, category)
    ("order-tracking", "Order tracking and fulfilment coordination", "operations"),
    ("inventory-reporting", "Inventory reporting", "operations"),
    ("vendor-communication", "Vendor communication and purchase orders", "operations"),
    ("sop-documentation", "SOP and process documentation", "operations"),
    ("project-coordination", "Project coordination", "operations"),
    ("logistics-coordination", "Logistics coordination", "operations"),
    ("customer-support-tier1", "Tier-one customer support tickets", "customer-service"),
    ("inquiry-routing", "Customer inquiry routing", "customer-service"),
    ("live-chat-support", "Live chat support", "customer-service"),
    ("phone-support", "Phone support", "customer-service"),
    ("returns-processing", "Returns and refunds processing", "customer-service"),
    ("inbox-management", "E-mail and inbox management", "admin"),
    ("calendar-management", "Scheduling and calendar management", "admin"),
    ("travel-booking", "Travel booking", "admin"),
    ("data-entry", "Data entry", "data"),
    ("crm-updates", "CRM updates and hygiene", "data"),
    ("data-cleansing", "Data cleansing and deduplication", "data"),
    ("web-research", "Web research and lead lists", "data"),
    ("report-generation", "Report generation", "reporting"),
    ("dashboarding", "Dashboards and KPI tracking", "reporting"),
    ("bookkeeping", "Bookkeeping", "finance"),
    ("accounts-payable", "Accounts payable", "finance"),
    ("accounts-receivable", "Accounts receivable and collections", "finance"),
    ("payroll", "Payroll", "finance"),
    ("tax-preparation", "Tax preparation", "finance"),
    ("financial-analysis", "Financial analysis and modelling", "finance"),
    ("recruiting", "Recruiting and candidate sourcing", "hr"),
    ("onboarding", "Employee onboarding", "hr"),
    ("hr-administration", "HR administration", "hr"),
    ("social-media-scheduling", "Social-media scheduling", "marketing"),
    ("content-writing", "Content writing", "marketing"),
    ("email-marketing", "E-mail marketing", "marketing"),
    ("seo", "Search engine optimisation", "marketing"),
    ("graphic-design", "Graphic design", "creative"),
    ("video-editing", "Video editing", "creative"),
    ("it-helpdesk", "IT helpdesk", "it"),
    ("network-administration", "Network administration", "it"),
    ("cloud-infrastructure", "Cloud infrastructure", "it"),
    ("web-development", "Web development", "it"),
    ("qa-testing", "Software QA and testing", "it"),
    ("legal-research", "Legal research", "knowledge"),
    ("contract-review", "Contract review", "knowledge"),
    ("market-research", "Market research", "knowledge"),
    ("data-analytics", "Data analytics", "knowledge"),
    ("translation", "Translation", "knowledge"),
    ("transcription", "Transcription", "knowledge"),
]


def upgrade():
    skills = sa.table(
        "skills",
        sa.column("id", sa.Uuid()),
        sa.column("slug", sa.String()),
        sa.column("name", sa.String()),
        sa.column("category", sa.String()),
    )
    op.bulk_insert(
        skills,
        [
            {"id": uuid.uuid5(NAMESPACE, slug), "slug": slug, "name": name, "category": category}
            for slug, name, category in SKILLS
        ],
    )


def downgrade():
    skills = sa.table("skills", sa.column("slug", sa.String()))
    op.execute(skills.delete().where(skills.c.slug.in_([slug for slug, _, _ in SKILLS])))
