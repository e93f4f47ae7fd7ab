"""The stores the pipeline loads into; they know no source."""
