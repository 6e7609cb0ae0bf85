from django.urls import path

from cadency.sequences.views import dashboard

urlpatterns = [
    path("sequences/", dashboard.manage, name="dashboard"),
    path("sequences/new/", dashboard.create, name="create_sequence"),
    path("sequences/scheduled/", dashboard.scheduled, name="scheduled"),
    path("sequences/<int:sequence_id>/delete/", dashboard.delete, name="delete_sequence"),
]
