"""The benchmark behind `python3 tasks.py bench` (entry point: scripts/bench_extraction.py).

    common.py      paths, the seeds, the variations every corpus copy gets
    corpus.py      the extraction corpus: normalized article bodies (steps a-h)
    documents.py   the documents-stage corpora: raw text scrapes, HTML pages, a folder of files
    peers.py       pyahocorasick, datefinder, spaCy EntityRuler
    steps.py       the step registry and the per-process runner (timing, peak memory)
    report.py      the table, the ratios against the targets, the JSON
"""
