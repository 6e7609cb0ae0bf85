"""Cadency: self-hosted sequences that stop the moment a human answers."""
