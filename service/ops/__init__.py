"""The ops edge: health checks, Prometheus metrics, the queue dashboard, the Ops page and `flask ops`."""
