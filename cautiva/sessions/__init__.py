"""Sessions as a device sees them: is it online at a point, and for how long still."""
