from django.urls import path

from cadency.inbound import views

app_name = "inbound"
urlpatterns = [
    path("inbound/", views.message_list, name="list"),
    path("inbound/<int:message_id>/", views.message_detail, name="detail"),
    path("inbound/<int:message_id>/raw/", views.raw_message, name="raw"),
    path("inbound/<int:message_id>/reprocess/", views.reprocess_message, name="reprocess"),
    path("inbound/<int:message_id>/relabel/", views.relabel_message, name="relabel"),
]
