"""`python -m marketing_contacts` runs the command-line interface."""

from marketing_contacts.cli.main import main

main()
