"""The pipeline every source shares: run folders, state, stages and the DAG builders."""
