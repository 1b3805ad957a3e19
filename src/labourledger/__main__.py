"""`python -m labourledger`: the same as the `labourledger` command."""

from labourledger.cli import main

main()
