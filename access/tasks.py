"""Periodic jobs of the access log."""

from celery import shared_task

from access import partitions


@shared_task
def access_partitions_ensure() -> list[str]:
    """Keep the access log's monthly partitions months ahead (idempotent)."""
    return partitions.accesslog_partitions_ensure()
