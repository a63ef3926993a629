"""Operating Kehu: the health probes (/healthz, /readyz) and the Prometheus metrics (/metrics).

No models, no templates, not an installed app: views and one middleware, read by load
balancers, orchestrators and Prometheus rather than by people. Nothing here names a
customer or a person; the answers are counts, ages and yes/no (docs/deploy.md).
"""
