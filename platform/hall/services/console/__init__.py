"""Read models for the admin console (queues, dashboards, diffs). The top floor: may import any package, none
imports it.
"""
