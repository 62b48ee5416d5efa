"""monenfant-intake: the intake worker of a lieu d'information mon-enfant.fr."""

__version__ = "0.1.0"
