"""Pure layout factories: they build components and never touch the database."""
