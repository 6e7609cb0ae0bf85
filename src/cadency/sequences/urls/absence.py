from django.urls import path

from cadency.sequences.views import absence

urlpatterns = [
    path("absence/", absence.absence, name="absence"),
    path("absence/preview/", absence.preview, name="absence_preview"),
    path("absence/start/", absence.start, name="absence_start"),
    path("absence/end/", absence.end, name="absence_end"),
]
