"""Figures for dashboards and sharing: service, population, flows, and small-cell suppression."""
