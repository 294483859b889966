"""``python -m cruce`` runs the command line."""

from cruce.cli import main

main()
