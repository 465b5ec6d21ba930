"""The `callpledge` command, one module per command group."""
