"""Uploads in: read a file, validate it against the contract, pseudonymise ids, load it all or nothing."""
