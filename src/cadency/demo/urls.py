from django.urls import path

from cadency.demo import views

app_name = "demo"
urlpatterns = [
    path("demo/contacts/<int:pk>/reply/", views.reply, name="reply"),
    path("demo/contacts/<int:pk>/out-of-office/", views.out_of_office, name="out_of_office"),
]
