from django.urls import path

from cadency.sidebar.views import actions, page, pairing

app_name = "sidebar"
urlpatterns = [
    path("sidebar/", page.sidebar_page, name="page"),
    path("sidebar/panel/", page.panel, name="panel"),
    path("sidebar/disconnect/", page.disconnect, name="disconnect"),
    path("sidebar/pairing/", pairing.start, name="pairing"),
    path("sidebar/pairing/claim/", pairing.claim, name="claim"),
    path("sidebar/pair/<str:code>/", pairing.approve, name="approve"),
    path(
        "sidebar/enrollments/<int:enrollment_id>/unenroll/",
        actions.unenroll_one,
        name="unenroll",
    ),
    path("sidebar/enrollments/<int:enrollment_id>/pause/", actions.pause_one, name="pause"),
    path("sidebar/enrollments/<int:enrollment_id>/resume/", actions.resume_one, name="resume"),
    path("sidebar/contacts/", actions.create_contact, name="create_contact"),
    path("sidebar/contacts/<int:contact_id>/enroll/", actions.enroll_contact, name="enroll"),
]
