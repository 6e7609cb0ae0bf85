from django.urls import path

from cadency.sequences.views import tasks_page

urlpatterns = [
    path("tasks/", tasks_page.tasks_page, name="tasks"),
    path("tasks/<int:task_id>/complete/", tasks_page.complete, name="task_complete"),
    path("tasks/<int:task_id>/skip/", tasks_page.skip, name="task_skip"),
]
