from django.urls import path

from cadency.mailboxes import views

app_name = "mailboxes"
urlpatterns = [
    path("mailboxes/", views.mailbox_list, name="list"),
    path("mailboxes/connect/", views.connect, name="connect"),
    path("mailboxes/<int:mailbox_id>/", views.mailbox_detail, name="detail"),
    path("mailboxes/<int:mailbox_id>/test/", views.test, name="test"),
    path("mailboxes/<int:mailbox_id>/limits/", views.edit_limits, name="limits"),
    path("mailboxes/<int:mailbox_id>/credentials/", views.edit_secret, name="credentials"),
]
