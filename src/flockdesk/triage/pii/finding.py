"""A piece of personal data found in a text: its kind and character span."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = (
    "email",
    "phone",
    "address",
    "payment_card",
    "account_number",
    "order_number",
    "credential",
    "government_id",
    "date_of_birth",
)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    start: int
    end: int
