from django.urls import path

from cadency.sequences.views import steps_tab

urlpatterns = [
    path("sequences/<int:sequence_id>/", steps_tab.steps_page, name="steps"),
    path("sequences/<int:sequence_id>/steps/new/", steps_tab.new_step, name="step_new"),
    path(
        "sequences/<int:sequence_id>/steps/<int:position>/edit/",
        steps_tab.edit_step,
        name="step_edit",
    ),
    path(
        "sequences/<int:sequence_id>/steps/<int:position>/move/",
        steps_tab.move,
        name="step_move",
    ),
    path(
        "sequences/<int:sequence_id>/steps/<int:position>/delete/",
        steps_tab.delete,
        name="step_delete",
    ),
]
