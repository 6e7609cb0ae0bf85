"""The signed-in user's account page: who they are, and their API tokens."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from cadency.accounts.models import ApiToken
from cadency.accounts.tokens import NAME_MAX_LENGTH, IssuedToken, TokenError, create_token
from cadency.accounts.tokens import revoke_token as revoke
from cadency.web.requests import signed_in_user


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        strip=True,
        help_text="What the token is for, e.g. “CRM sync”.",
    )


def account_page(
    request: HttpRequest,
    *,
    form: TokenForm | None = None,
    issued: IssuedToken | None = None,
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    tokens = ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")
    response = render(
        request,
        "accounts/account.html",
        {
            "account": user,
            "tokens": tokens,
            "form": form or TokenForm(),
            "issued": issued,
        },
        status=status,
    )
    if issued is not None:
        # The only response that ever carries the secret: never cache it.
        response["Cache-Control"] = "no-store"
    return response


@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return account_page(request)


@require_POST
def create_api_token(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return account_page(request, form=form, status=400)
    try:
        issued = create_token(user=signed_in_user(request), name=form.cleaned_data["name"])
    except TokenError as exc:
        form.add_error("name", str(exc))
        return account_page(request, form=form, status=400)
    return account_page(request, issued=issued)


@require_POST
def revoke_api_token(request: HttpRequest, token_id: int) -> HttpResponse:
    user = signed_in_user(request)
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise Http404("You have no API token with this id.")
    if revoke(token=token, actor=user):
        messages.success(request, f"Revoked the token “{token.name}” ({token.prefix}…).")
    else:
        messages.warning(request, f"The token “{token.name}” was already revoked.")
    return redirect("account")
