from django.urls import path

from cadency.sequences.views import (
    automation_tab,
    enrollments_tab,
    performance_tab,
    settings_tab,
)

urlpatterns = [
    path(
        "sequences/<int:sequence_id>/enrollments/",
        enrollments_tab.enrollments,
        name="enrollments",
    ),
    path(
        "sequences/<int:sequence_id>/enrollments/unenroll/",
        enrollments_tab.bulk_unenroll,
        name="bulk_unenroll",
    ),
    path(
        "sequences/<int:sequence_id>/performance/",
        performance_tab.performance_page,
        name="performance",
    ),
    path("sequences/<int:sequence_id>/settings/", settings_tab.settings_page, name="settings"),
    path(
        "sequences/<int:sequence_id>/automation/",
        automation_tab.automation_page,
        name="automation",
    ),
    path(
        "sequences/<int:sequence_id>/automation/triggers/",
        automation_tab.trigger_add,
        name="trigger_add",
    ),
    path(
        "sequences/<int:sequence_id>/automation/triggers/preview/",
        automation_tab.trigger_preview,
        name="trigger_preview",
    ),
    path(
        "sequences/<int:sequence_id>/automation/triggers/<int:trigger_id>/remove/",
        automation_tab.trigger_remove,
        name="trigger_remove",
    ),
]
