from django.contrib.auth import views as auth_views
from django.urls import path

from cadency.accounts import alert_views, views
from cadency.accounts.login_view import SignInView

urlpatterns = [
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", views.account, name="account"),
    path("account/tokens/", views.create_api_token, name="account_token_create"),
    path(
        "account/tokens/<int:token_id>/revoke/",
        views.revoke_api_token,
        name="account_token_revoke",
    ),
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/dismiss/", alert_views.dismiss, name="alert_dismiss"),
]
