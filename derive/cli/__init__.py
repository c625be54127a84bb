"""The command line: one module per subcommand, the gallery, the entry point."""
