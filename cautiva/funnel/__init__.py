"""Funnel counters: how many times each portal step happened per point and day, nobody named."""
