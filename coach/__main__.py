"""``python -m coach``: the same command line as the installed ``coach`` script."""

from coach.cli import main

main(prog_name="coach")
