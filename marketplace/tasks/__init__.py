"""Tasks: non-core work that clients post, with confidentiality-gated details."""
