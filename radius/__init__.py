"""Cautiva's RADIUS edge: pyrad types stay inside this package."""
