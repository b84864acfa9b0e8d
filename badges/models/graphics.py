import uuid

from django.conf import settings
from django.db import models

from orgs.models import Space


class GraphicQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "GraphicQuerySet":
        return self.filter(space=space)

    def in_library(self) -> "GraphicQuerySet":
        return self.filter(archived_at__isnull=True)


class Graphic(models.Model):
    """A badge image in the space's library: uploaded (verified, re-encoded PNG) or drawn by
    the designer (``design`` keeps the choices so it can be opened again as a new graphic).

    Files are never rewritten or deleted: awards keep pointing at the image they were issued
    with. "Deleting" a graphic archives it out of the library.
    """

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded"
        DESIGNER = "designer", "Designed here"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="graphics")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    image = models.ImageField(upload_to="graphics/")
    source = models.CharField(max_length=10, choices=Source.choices)
    design = models.JSONField(null=True, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = GraphicQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The library: WHERE space_id = ? AND archived_at IS NULL ORDER BY created_at DESC
            models.Index(fields=["space", "-created_at"], name="graphic_space_created"),
        ]

    def __str__(self) -> str:
        return self.name
