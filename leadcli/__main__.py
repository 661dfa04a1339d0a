"""Allow ``python -m leadcli``."""

from leadcli.cli.app import main

if __name__ == "__main__":
    main()
