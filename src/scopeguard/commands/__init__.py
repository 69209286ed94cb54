"""The subcommands. Each module has NAME, HELP, add_arguments(parser) and run(args) -> exit code;
`cli` builds the parser from this list in this order."""

from . import baseline, check, delete_plan, graph, rule

COMMANDS = (check, rule, graph, baseline, delete_plan)
