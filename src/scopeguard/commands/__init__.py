"""The subcommands. Each module has NAME, HELP, add_arguments(parser) and run(args) -> exit code;
`cli` builds the parser from this list in this order."""

from . import check, rule

COMMANDS = (check, rule)
