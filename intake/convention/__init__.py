"""The convention's clocks and letters: the deadlines, the calendar of what
falls due, annexe 1, the extranet accounts' coverage, the emails to staff."""
