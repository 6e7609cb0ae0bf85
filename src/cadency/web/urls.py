from django.urls import path

from cadency.outbound.views import unsubscribe_view
from cadency.web import metrics, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("u/<str:token>/", unsubscribe_view, name="unsubscribe"),
]
