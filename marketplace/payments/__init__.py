"""Payments: milestone escrow flows, the gateways (sandbox, Stripe), payouts and refunds."""
