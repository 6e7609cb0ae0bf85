"""The contact and company pages, one module per page area."""
