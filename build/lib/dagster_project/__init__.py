"""geo-warehouse: geopolitical and security articles -> DuckDB analytics warehouse."""
