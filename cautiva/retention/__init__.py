"""Retention: raw sessions, grants and person keys older than the operator's period are purged."""
