"""`flask` commands for money: the periodic jobs by hand, and `ledger-check`."""

from __future__ import annotations

import sys

import click
from flask import Flask

from marketplace.payments import aging, delivery, idempotency, refunds
from marketplace.reporting import ledger_check as checks


def register_commands(app: Flask) -> None:
    """Add the payments commands to the app's CLI."""

    @app.cli.command("auto-release")
    def auto_release_command() -> None:
        """Release submitted milestones the client did not answer in time."""
        click.echo(f"released {delivery.auto_release_due()} milestones")

    @app.cli.command("lapse-refund-requests")
    def lapse_refund_requests_command() -> None:
        """Refund milestones whose provider did not answer a refund request in time."""
        click.echo(f"refunded {refunds.lapse_due()} milestones")

    @app.cli.command("purge-idempotency-keys")
    def purge_idempotency_keys_command() -> None:
        """Forget idempotency keys past their retention."""
        click.echo(f"purged {idempotency.purge_expired()} idempotency keys")

    @app.cli.command("escrow-age-guard")
    def escrow_age_guard_command() -> None:
        """Warn about money held in escrow for long, and send the oldest to admin review."""
        result = aging.guard()
        click.echo(f"warned about {result['warned']}, sent {result['reviewed']} to review")

    @app.cli.command("ledger-check")
    def ledger_check_command() -> None:
        """Verify the books; exits 1 on any breach."""
        found = checks.breaches()
        counts = ", ".join(f"{n} {name}" for name, n in checks.summary().items())
        if found:
            for breach in found:
                click.echo(f"BREACH: {breach}", err=True)
            click.echo(f"ledger-check: {len(found)} breaches ({counts})", err=True)
            sys.exit(1)
        click.echo(f"ledger-check: OK ({counts})")
