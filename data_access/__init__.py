"""The only package that speaks SQL: schema, migrations, the upload contract, ingest and queries."""
