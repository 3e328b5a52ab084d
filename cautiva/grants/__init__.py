"""Grants: issuing the one-time credential and deciding logins with it."""
