"""Who may do what: principals, roles, scoped API keys."""
