"""Triage: sentiment, intent, sensitive data, urgency, influence and priority.

Pure functions over text and author: no database, no network.
"""

from flockdesk.triage.core import TriageResult, triage_items, triage_message
from flockdesk.triage.reply_guard import ReplyCheck, check_reply
from flockdesk.triage.sensitive import KINDS as SENSITIVE_KINDS
from flockdesk.triage.sensitive import find_sensitive, sensitive_kinds

__all__ = [
    "SENSITIVE_KINDS",
    "ReplyCheck",
    "TriageResult",
    "check_reply",
    "find_sensitive",
    "sensitive_kinds",
    "triage_items",
    "triage_message",
]
