"""``python -m inceptionism`` runs the command line."""

from inceptionism.cli import main

if __name__ == "__main__":
    main()
