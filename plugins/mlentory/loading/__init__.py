"""One loader per store: ``graph`` (Neo4j, neosemantics shape) and ``search_index`` (Elasticsearch)."""
