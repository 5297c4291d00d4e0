"""The migration linter: finds in-process state that breaks when an app runs as several replicas."""
