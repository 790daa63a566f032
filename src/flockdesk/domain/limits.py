"""What one inbound item may bring into the store: a connector turns anything beyond these limits into
a dead letter (or, for long text, a truncated item plus a dead letter saying so) before storing.

- MAX_TEXT_CHARS: the stored text of a message (X's long posts reach 25,000 characters). Longer text
  is stored truncated, and a dead letter records the item (truncated too) and its full length.
- MAX_RAW_BYTES: the platform JSON kept with a message (`messages.raw`), after the text cap. A larger
  item is a dead letter.
- MAX_NESTING: how deep an item's JSON may nest. X's objects nest under 10 levels; the store's JSON
  encoder (orjson) stops at 254, so deeper items would make a whole batch fail.
"""

from __future__ import annotations

MAX_TEXT_CHARS = 25_000
MAX_RAW_BYTES = 1_000_000
MAX_NESTING = 250
