"""Files -> articles: reading and decoding (ingest), HTML pages (html), plain-text scrapes
(scrape), metadata (metadata) and language (language). No Dagster imports."""
