"""Articles -> facts: character offsets (spans), numbers, actor mentions, statistics and dates,
as polars expressions over whole columns. No Dagster imports."""
