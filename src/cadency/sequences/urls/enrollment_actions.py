from django.urls import path

from cadency.sequences.views import enrollment_actions

urlpatterns = [
    path(
        "enrollments/<int:enrollment_id>/unenroll/",
        enrollment_actions.unenroll_one,
        name="unenroll",
    ),
    path("enrollments/<int:enrollment_id>/pause/", enrollment_actions.pause_one, name="pause"),
    path("enrollments/<int:enrollment_id>/resume/", enrollment_actions.resume_one, name="resume"),
]
