"""Model registry: models, immutable versions, aliases, lineage, contracts, profiles."""
