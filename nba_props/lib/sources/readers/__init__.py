"""One reader per ingest asset for the `files` provider (see `nba_props.lib.sources.files`)."""
