"""Where calls are kept: SQLAlchemy tables, Alembic migrations, and the :class:`CallStore` API."""

from coach.storage.records import SYSTEM, CallDetail, CallFilter, CallSummary, NewCall, NoteRecord, TokenRecord, Viewer
from coach.storage.store import CallStore

__all__ = ["SYSTEM", "CallDetail", "CallFilter", "CallStore", "CallSummary", "NewCall", "NoteRecord", "TokenRecord", "Viewer"]
