from django.urls import path

from cadency.outbound.views import unsubscribe_view
from cadency.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("u/<str:token>/", unsubscribe_view, name="unsubscribe"),
]
