"""``python -m fabric`` entry point."""

from fabric.cli import main

if __name__ == "__main__":
    main()
