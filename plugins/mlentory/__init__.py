"""MLentory on Airflow: harvest ML model metadata, map it to FAIR4ML, load it into a graph and an index.

Follow the data: ``huggingface`` (source -> raw run folder), ``fair4ml`` (the model, the IRIs and the
JSON-LD context), ``loading`` (graph and index). ``run_folder`` is the on-disk contract between stages.
"""
