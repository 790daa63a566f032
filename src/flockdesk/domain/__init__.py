"""Pure domain code shared by every layer: Flockdesk's types and vocabulary, the conversation state
machine, the errors a user can cause, text length and safety rules, UTC helpers. No I/O."""
