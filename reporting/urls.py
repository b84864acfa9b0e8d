from django.urls import path

from reporting import views

app_name = "reporting"

# Every report page reads its choices from the query string (organisations, period, show),
# so a report is a link that can be bookmarked or shared with someone allowed to see it.
space_urlpatterns = [
    path("reports/", views.index, name="index"),
    path("reports/export.csv", views.export, name="export"),
    path("reports/recipients/", views.recipients, name="recipients"),
    path("reports/recipients.csv", views.recipients_csv, name="recipients_csv"),
]
