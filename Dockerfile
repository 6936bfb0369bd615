# The one image for the web process, the task cluster and the release step
# (compose.yaml). Not built on our machines (no Docker engine there): bin/ and
# .ci/run's production step run the same commands without containers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_READ_DOT_ENV=0 \
    PYTHON=python \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

# Static files are collected into the image; bin/web collects again at start
# (quick: nothing changed) so a mounted STATIC_ROOT works too.
RUN DEBUG=0 SECRET_KEY=collectstatic-only FIELD_ENCRYPTION_KEY=collectstatic-only \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 1000 bridge && chown -R bridge /app
USER bridge
EXPOSE 8000
CMD ["bin/web"]
