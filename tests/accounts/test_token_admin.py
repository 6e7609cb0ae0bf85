"""The admin lists tokens read-only and revokes them through the service (ledger)."""

import pytest
from django.test import Client

from cadency.accounts.models import User
from cadency.accounts.tokens import authenticate_token, create_token
from cadency.ledger.models import Event

pytestmark = pytest.mark.django_db


def test_an_admin_revokes_selected_tokens(alice: User, admin: User) -> None:
    issued = create_token(user=alice, name="ci")
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/accounts/apitoken/")
    assert listing.status_code == 200 and issued.token.prefix in listing.content.decode()
    assert issued.secret not in listing.content.decode()
    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke_selected", "_selected_action": [issued.token.pk]},
        follow=True,
    )
    assert "Revoked 1 token(s)." in response.content.decode()
    assert authenticate_token(issued.secret) is None
    assert Event.objects.get(kind="api_token_revoked").actor == admin


def test_tokens_cannot_be_added_or_deleted_in_the_admin(alice: User, admin: User) -> None:
    issued = create_token(user=alice, name="ci")
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
    assert client.get(f"/admin/accounts/apitoken/{issued.token.pk}/delete/").status_code == 403
