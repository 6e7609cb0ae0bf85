"""The sign-in page: Django's, saying clearly when sign-ins are paused (429)."""

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpResponse

from cadency.accounts.login_limits import lockout_of


class SignInView(LoginView):
    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        lockout = lockout_of(self.request)
        if lockout is None:
            return super().form_invalid(form)
        context: dict[str, Any] = self.get_context_data(form=form, lockout=lockout.message())
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(lockout.seconds_left())
        return response
