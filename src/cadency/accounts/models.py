from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    REP = "rep", "Rep"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)

    def can_act_on_all_enrollments(self) -> bool:
        return self.is_superuser or self.role in {Role.MANAGER, Role.ADMIN}

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username
