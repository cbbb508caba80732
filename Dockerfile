FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# The settings refuse a short SECRET_KEY and an unset EMAIL_BACKEND outside DEBUG; collectstatic
# needs neither, so these build-time values exist only for this step.
RUN SECRET_KEY=collectstatic-at-build-time-only-not-a-secret-0123456789 \
    EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend python manage.py collectstatic --no-input
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "300", "--no-control-socket", "--access-logfile", "-", "--logger-class", "config.log_masking.AccessLogger"]
