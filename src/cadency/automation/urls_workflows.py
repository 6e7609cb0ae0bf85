from django.urls import URLPattern, path

from cadency.automation.views import workflow_builder, workflows

urlpatterns: list[URLPattern] = [
    path("workflows/", workflows.workflow_list, name="workflows"),
    path("workflows/new/", workflow_builder.new_workflow, name="workflow_new"),
    path("workflows/<int:pk>/", workflows.workflow_detail, name="workflow"),
    path("workflows/<int:pk>/edit/", workflow_builder.edit_workflow, name="workflow_edit"),
    path("workflows/<int:pk>/switch/", workflows.switch, name="workflow_switch"),
    path("workflows/<int:pk>/secret/", workflows.replace_secret, name="workflow_secret"),
]
