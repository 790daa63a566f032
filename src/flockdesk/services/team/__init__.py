"""The team: users, sign-in sessions, presence, @mentions in notes, and the audit log (written, and read
merged with every conversation's state changes)."""
