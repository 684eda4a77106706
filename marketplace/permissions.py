"""Who acts and signs for whom: acting profiles, ownership, owners and managers."""
