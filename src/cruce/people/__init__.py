"""The people flow: identifying victims of trafficking, their assistance, and safe statistics."""
