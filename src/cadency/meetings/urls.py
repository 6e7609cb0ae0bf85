from django.urls import URLPattern, path, re_path

from cadency.meetings import booking_views, views

app_name = "meetings"
urlpatterns: list[URLPattern] = [
    path("contacts/<int:pk>/meetings/new/", views.log_on_contact, name="log_on_contact"),
    path("companies/<int:pk>/meetings/new/", views.log_on_company, name="log_on_company"),
    path("deals/<int:pk>/meetings/new/", views.log_on_deal, name="log_on_deal"),
    path("meetings/<int:pk>/cancel/", views.cancel, name="cancel"),
    # Meeting links (booking pages): the user's list, and the public pages.
    path("meetings/links/", booking_views.link_list, name="links"),
    path("meetings/links/new/", booking_views.link_create, name="link_create"),
    path("meetings/links/<int:pk>/", booking_views.link_edit, name="link_edit"),
    path(
        "meetings/links/<int:pk>/deactivate/",
        booking_views.link_set_active,
        {"active": False},
        name="link_deactivate",
    ),
    path(
        "meetings/links/<int:pk>/activate/",
        booking_views.link_set_active,
        {"active": True},
        name="link_activate",
    ),
    # A signed token always holds a ":", which no link slug does.
    re_path(
        r"^meet/booking/(?P<token>[^/]*:[^/]*)/$",
        booking_views.booking_manage,
        name="booking_manage",
    ),
    path("meet/booking/<str:token>/cancel/", booking_views.booking_cancel, name="booking_cancel"),
    path(
        "meet/booking/<str:token>/reschedule/",
        booking_views.booking_reschedule,
        name="booking_reschedule",
    ),
    path("meet/<str:username>/<slug:slug>/", booking_views.booking_page, name="book"),
]
