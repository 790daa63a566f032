"""Everything X-specific: the API client, JSON parsing into Flockdesk's types, links and DM thread ids,
unit prices, search query rules, rate-limit headers and OAuth token refresh."""
