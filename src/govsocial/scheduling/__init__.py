"""Layer 5, scheduling: jobs and deliveries, and the worker that publishes them exactly once."""
