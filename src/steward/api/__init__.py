"""HTTP plumbing shared by every slice: dependencies, error handlers."""
