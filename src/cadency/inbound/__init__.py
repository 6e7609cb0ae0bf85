"""Inbound mail: receive → store raw → classify → identify → decide → act."""
