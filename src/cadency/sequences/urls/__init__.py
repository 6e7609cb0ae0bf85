"""The sequences app's pages; each area keeps its routes in its own module."""

from cadency.sequences.urls import (
    absence,
    dashboard,
    enrollment_actions,
    sequence_page,
    steps,
    tasks,
)

app_name = "sequences"
urlpatterns = [
    *dashboard.urlpatterns,
    *sequence_page.urlpatterns,
    *steps.urlpatterns,
    *enrollment_actions.urlpatterns,
    *tasks.urlpatterns,
    *absence.urlpatterns,
]
