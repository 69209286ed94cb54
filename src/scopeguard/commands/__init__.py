"""The subcommands. Each module has NAME, HELP, add_arguments(parser) and run(args) -> exit code
(and may have EPILOG: examples for --help); `cli` builds the parser from this list in this order."""

from . import audit, baseline, check, delete_plan, fix, graph, init, rule, server

COMMANDS = (check, init, rule, graph, baseline, delete_plan, audit, fix, server)
