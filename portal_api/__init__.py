"""Cautiva's HTTP edge: the splash portal, its JSON API and the admin. FastAPI stays in here."""
