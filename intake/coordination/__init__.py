"""Coordination (SPEC section 12): what coordinators get out of the service, never content."""
