"""Browser routes, one module per screen."""
