"""Helpers with no domain logic."""
