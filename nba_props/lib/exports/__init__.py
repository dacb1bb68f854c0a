"""The published JSON files (`v1/...`): pydantic schemas and pure builders (polars in, models
out; no dagster). `common`: the shared pieces (base model, value types, the record, the picks
frame every file reads, the season scope, the one JSON encoding); `best_bets_files`: the public
best-bets files (all.json, today.json); `admin_files`: signal-best-bets, the admin dashboard and
pick views, systems/model-health.json."""
