"""Routes of the list pages (included by ``automation/urls.py``)."""

from django.urls import URLPattern, path

from cadency.automation import list_views

urlpatterns: list[URLPattern] = [
    path("lists/", list_views.list_index, name="lists"),
    path("lists/new/", list_views.list_new, name="list_new"),
    path("lists/preview/", list_views.list_preview, name="list_preview"),
    path("lists/join/", list_views.join, name="list_join"),
    path("lists/<int:pk>/", list_views.list_detail, name="list"),
    path("lists/<int:pk>/conditions/", list_views.list_conditions, name="list_conditions"),
    path("lists/<int:pk>/delete/", list_views.list_delete, name="list_delete"),
    path("lists/<int:pk>/members/add/", list_views.member_add, name="list_member_add"),
    path("lists/<int:pk>/members/search/", list_views.member_search, name="list_member_search"),
    path(
        "lists/<int:pk>/members/<int:contact_pk>/remove/",
        list_views.member_remove,
        name="list_member_remove",
    ),
]
