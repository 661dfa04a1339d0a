"""The command-line layer: parses options, calls the core library, renders results."""
