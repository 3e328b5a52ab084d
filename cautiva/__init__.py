"""Cautiva's domain core: settings, database, models, the session policy and services.

Nothing here knows about HTTP or RADIUS; the edges (`radius/`, `portal_api/`) translate
their wire formats into calls on these services.
"""

__version__ = "0.1.0"
