"""Briefing reports (HTML and PDF) of investigation cases and entities."""
