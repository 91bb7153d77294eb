"""One module per ``radpipe`` subcommand; see :mod:`workflows.cli`."""
