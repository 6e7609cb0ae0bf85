from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from cadency.accounts.models import Role, User
from cadency.ledger.services import record_event


class UserError(ValueError):
    pass


def create_user(
    *,
    username: str,
    email: str,
    password: str,
    role: Role = Role.REP,
    first_name: str = "",
    last_name: str = "",
) -> User:
    if User.objects.filter(username=username).exists():
        raise UserError(f"a user named {username!r} already exists")
    try:
        User.username_validator(username)
        validate_email(email)
    except ValidationError as exc:
        raise UserError(f"{username!r} / {email!r}: {' '.join(exc.messages)}") from exc
    if not username:
        raise UserError("a user needs a username")
    user = User(
        username=username,
        email=email,
        role=role,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise UserError(" ".join(exc.messages)) from exc
    user.set_password(password)
    with transaction.atomic():
        user.save()
        record_event(
            kind="user_created",
            actor=None,
            sentence=f"User {username} ({role}) was created.",
            data={"user": user.pk},
        )
    return user
