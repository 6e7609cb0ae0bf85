"""Who may change a workflow: any signed-in user sees every workflow; a rep creates,
edits, switches on or off and reads the webhook secret of their own workflows only;
managers and admins of every workflow."""

from django.core.exceptions import PermissionDenied

from cadency.accounts.models import User
from cadency.accounts.permissions import may_act_on
from cadency.automation.models import Workflow


def may_edit_workflow(user: User, workflow: Workflow) -> bool:
    return may_act_on(user, workflow.owner_id)


def check_may_edit_workflow(user: User, workflow: Workflow) -> None:
    """Refuse (403) a change to another user's workflow, for a rep."""
    if not may_edit_workflow(user, workflow):
        raise PermissionDenied(
            f"the workflow «{workflow.name}» belongs to another user; a {user.role} may only "
            "change the workflows they own"
        )
