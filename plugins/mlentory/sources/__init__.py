"""One package per source, holding only what is the source's own."""
