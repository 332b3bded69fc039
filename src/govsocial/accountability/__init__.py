"""Layer 5, accountability: drafts, approvals and content requests between units."""
