from django.urls import path

from cadency.tracking import views

app_name = "tracking"
urlpatterns = [
    path("t/c/<str:token>/", views.click_view, name="click"),
    path("t/o/<str:token>.gif", views.open_view, name="open"),
]
