FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip install . && useradd --system --home /srv callpledge && chown callpledge /srv
USER callpledge

EXPOSE 8000
# Binding 0.0.0.0 needs TWILIO_AUTH_TOKEN (demo mode is loopback only).
CMD ["callpledge", "serve", "--host", "0.0.0.0", "--port", "8000"]
