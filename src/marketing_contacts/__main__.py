"""`python -m marketing_contacts` runs the command-line interface."""

from marketing_contacts.cli import main

main()
