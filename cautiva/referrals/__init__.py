"""The referral directory: services per area, matched to the needs people declare."""
