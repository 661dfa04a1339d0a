"""The command groups, one module each: parse options, call the core, render."""
