"""Emails to a family from its demande: the lieu's letters (`letters`) and sending them
(`service`)."""
