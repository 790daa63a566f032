"""Replies: composing, checking and sending every outbound message through the outbox, move to DM, moderation,
and AI draft suggestions (assist)."""
