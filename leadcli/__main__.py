"""Allow ``python -m leadcli``."""

from leadcli.cli.entry import main

if __name__ == "__main__":
    main()
