"""Accounting: recording router sessions, closing stale ones, finding overruns."""
