"""`python -m phototips` is the `phototips` command."""

from .cli import main

raise SystemExit(main())
