"""Run the command line as `python -m coalitionletter`."""

from coalitionletter.cli import main

main()
