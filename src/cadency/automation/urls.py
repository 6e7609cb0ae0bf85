"""The automation app's pages; each area keeps its routes in its own module."""

from cadency.automation.urls_lists import urlpatterns as list_urls
from cadency.automation.urls_workflows import urlpatterns as workflow_urls

app_name = "automation"
urlpatterns = [*workflow_urls, *list_urls]
