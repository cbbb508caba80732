"""Celery application.

Without REDIS_URL (the embedded default) tasks run eagerly in the calling
process, so the quickstart needs no broker; with it, they go to Redis and a
worker (`celery -A config worker`) runs them.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("gatehouse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
