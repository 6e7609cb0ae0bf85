"""Background tasks: thin wrappers that call the automation services."""

from django_tasks import task

from cadency.automation import reactions


@task()
def react(event_ids: list[int], depth: int) -> int:
    """Run what automation does for these ledger events; returns how many acted."""
    return reactions.react_to(event_ids, depth=depth)


@task()
def deliver_webhook(delivery_id: int) -> str:
    from cadency.automation.services import webhooks

    return webhooks.deliver(delivery_id)
