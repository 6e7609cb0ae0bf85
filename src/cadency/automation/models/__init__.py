from cadency.automation.models.lists import ContactList, ListKind, ListMembership
from cadency.automation.models.triggers import TriggerKind, UnenrollTrigger
from cadency.automation.models.vocabulary import TriggerType
from cadency.automation.models.webhooks import DeliveryStatus, WebhookDelivery
from cadency.automation.models.workflows import RunStatus, Workflow, WorkflowRun

__all__ = [
    "ContactList",
    "DeliveryStatus",
    "ListKind",
    "ListMembership",
    "RunStatus",
    "TriggerKind",
    "TriggerType",
    "UnenrollTrigger",
    "WebhookDelivery",
    "Workflow",
    "WorkflowRun",
]
