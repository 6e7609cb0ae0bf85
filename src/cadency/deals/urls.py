from django.urls import URLPattern, path

from cadency.deals import views

app_name = "deals"
urlpatterns: list[URLPattern] = [
    path("deals/", views.deal_list, name="list"),
    path("deals/new/", views.new_deal, name="new"),
    path("deals/<int:pk>/", views.deal_record, name="record"),
    path("deals/<int:pk>/stage/", views.change_stage, name="stage"),
    path("deals/<int:pk>/contacts/", views.add_contact, name="add_contact"),
    path("deals/<int:pk>/contacts/remove/", views.remove_contact, name="remove_contact"),
]
