"""The `steward` command line: a thin client of the REST API plus local admin commands."""
