"""The staff console: a French, server-rendered web front on the same services as the CLI."""
