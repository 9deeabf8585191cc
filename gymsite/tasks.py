from celery import shared_task

from gymsite import outbox


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_jitter=True, max_retries=5)
def outbox_deliver(message_id: int) -> bool:
    return outbox.outbox_deliver(message_id=message_id)


@shared_task
def outbox_relay() -> int:
    return outbox.outbox_relay()
