"""Accounts, sessions, need-to-know and the audit log: the one place where access is decided.

``Security(store)`` opens the application tables of a store; ``Guard(store, security, schema)``
is the only way surfaces (pages, API, exports) read entities on behalf of a principal.
"""

from cruce.security.accounts import SYSTEM, AccountError, Accounts, Principal, Role, Scope, User
from cruce.security.audit import AuditLog, Verification
from cruce.security.guard import Guard, SearchHit, SearchResults, Security, caption, fold
from cruce.security.policy import REDACTED, DatasetPolicy, Marking, Policies

__all__ = [
    "REDACTED",
    "SYSTEM",
    "AccountError",
    "Accounts",
    "AuditLog",
    "DatasetPolicy",
    "Guard",
    "Marking",
    "Policies",
    "Principal",
    "Role",
    "Scope",
    "SearchHit",
    "SearchResults",
    "Security",
    "User",
    "Verification",
    "caption",
    "fold",
]
