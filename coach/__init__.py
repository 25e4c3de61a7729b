"""coach: an on-premises coaching assistant for debt-collection calls.

The library never imports the web stack; ``server/`` is a thin adapter over it.
"""

__version__ = "0.1.0"
