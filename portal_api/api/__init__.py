"""The JSON API under /api/v1, documented in OpenAPI at /docs."""
