"""One module per `localagent` subcommand: each defines register(subparsers, common)."""
