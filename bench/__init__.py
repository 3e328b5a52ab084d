"""Benchmark Cautiva's RADIUS server against FreeRADIUS with rlm_sql on the same machine."""
