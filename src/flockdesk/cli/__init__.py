"""The `flockdesk` command line: one module per command group, each only parsing options and calling
services (`main` is the console script and loads a command's module when that command runs)."""
